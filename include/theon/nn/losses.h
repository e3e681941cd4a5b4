// theon/nn/losses.h — losses and metrics as graph builders.
//
// Each loss maps (y_true, y_pred) to the scalar mean over the batch; the
// metric functions do the same for accuracies. Cross-entropies take
// probabilities or, with from_logits, raw scores: the sparse categorical
// cross-entropy from logits is SoftmaxCrossentropy1Hot, the fused op that
// stays finite for logits of any size, and the binary one from logits is
// max(z, 0) - z * y + log1p(exp(-|z|)). Probabilities are clipped to
// [1e-7, 1 - 1e-7] before the log, as Keras does. Names follow Keras
// ("sparse_categorical_crossentropy", "mse", ...), so models and the Python
// binding select them by string.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "theon/graph/node.h"

namespace theon::nn {

// ---- losses: mean over the batch ----
Var sparse_categorical_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits = false);
Var categorical_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits = false);
Var binary_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits = false);
Var mean_squared_error(const Var& y_true, const Var& y_pred);
Var mean_absolute_error(const Var& y_true, const Var& y_pred);
Var huber(const Var& y_true, const Var& y_pred, double delta = 1.0);

struct LossSpec {
  std::string name;  // canonical: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
                     // mean_squared_error, mean_absolute_error, huber
  bool from_logits = false;
  double delta = 1.0;  // huber
  // Whether targets are integer class indices (one dim less than the prediction).
  bool sparse_targets() const { return name == "sparse_categorical_crossentropy"; }
  Var operator()(const Var& y_true, const Var& y_pred) const;
};
// Accepts Keras' names and aliases (mse, mae, ...); throws std::invalid_argument otherwise.
LossSpec loss_by_name(const std::string& name, bool from_logits = false);

// ---- metrics: mean over the batch ----
// Fraction of samples whose arg-max prediction equals the integer label.
Var sparse_categorical_accuracy(const Var& y_true, const Var& y_pred);
// The same with one-hot / probability targets (arg-max of both).
Var categorical_accuracy(const Var& y_true, const Var& y_pred);
// Predictions thresholded at `threshold` (0 for logits, 0.5 for probabilities).
Var binary_accuracy(const Var& y_true, const Var& y_pred, double threshold = 0.5);
// Fraction of samples whose label is among the k highest scores (ties count
// against: a label is in the top k when fewer than k scores exceed its own).
Var sparse_top_k_categorical_accuracy(const Var& y_true, const Var& y_pred, int k = 5);

struct MetricSpec {
  std::string name;  // the key in logs and history ("accuracy", "top_5_accuracy", ...)
  std::function<Var(const Var&, const Var&)> fn;
};
// "accuracy"/"acc" picks the variant that fits the loss (sparse, categorical,
// binary), as Keras does; also sparse_categorical_accuracy,
// categorical_accuracy, binary_accuracy, top_k / top_<k>_accuracy, mse, mae.
MetricSpec metric_by_name(const std::string& name, const LossSpec& loss);

}  // namespace theon::nn
