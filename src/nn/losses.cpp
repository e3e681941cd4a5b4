// Losses and metrics (see theon/nn/losses.h).
#include "theon/nn/losses.h"

#include <stdexcept>

#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/nnet.h"
#include "theon/ops/nnet_fused.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon::nn {

namespace {
constexpr double kEps = 1e-7;

void check_rank(const char* who, const Var& y_true, const Var& y_pred, int diff) {
  if (y_true.ndim() + diff != y_pred.ndim())
    throw std::invalid_argument(std::string("[") + who + "] targets of rank " + std::to_string(y_true.ndim()) +
                                " do not fit predictions " + y_pred.type().str() + " (expected rank " +
                                std::to_string(y_pred.ndim() - diff) + ")");
}
Var as_float(const Var& y, const Var& like) { return y.dtype() == like.dtype() ? y : cast(y, like.dtype()); }
Var clipped(const Var& p) {
  DType d = p.dtype();
  return clip(p, constant(kEps, d), constant(1.0 - kEps, d));
}
}  // namespace

Var sparse_categorical_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits) {
  check_rank("sparse_categorical_crossentropy", y_true, y_pred, 1);
  if (!is_integer(y_true.dtype()))
    throw std::invalid_argument("[sparse_categorical_crossentropy] expected integer class indices, got " +
                                y_true.type().str());
  if (from_logits) return mean(softmax_crossentropy_1hot(y_pred, y_true));
  return mean(crossentropy_categorical_1hot(clipped(y_pred), y_true));
}

Var categorical_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits) {
  check_rank("categorical_crossentropy", y_true, y_pred, 0);
  Var t = as_float(y_true, y_pred);
  int last = y_pred.ndim() - 1;
  Var logp = from_logits ? log_softmax(y_pred, -1) : log(clipped(y_pred / sum(y_pred, std::vector<int>{last}, true)));
  return mean(-sum(t * logp, std::vector<int>{last}));
}

Var binary_crossentropy(const Var& y_true, const Var& y_pred, bool from_logits) {
  check_rank("binary_crossentropy", y_true, y_pred, 0);
  Var t = as_float(y_true, y_pred);
  if (from_logits) return mean(relu(y_pred) - y_pred * t + log1p(exp(-abs(y_pred))));
  Var p = clipped(y_pred);
  return mean(-(t * log(p) + (1.0 - t) * log(1.0 - p)));
}

Var mean_squared_error(const Var& y_true, const Var& y_pred) {
  check_rank("mean_squared_error", y_true, y_pred, 0);
  return mean(sqr(y_pred - as_float(y_true, y_pred)));
}

Var mean_absolute_error(const Var& y_true, const Var& y_pred) {
  check_rank("mean_absolute_error", y_true, y_pred, 0);
  return mean(abs(y_pred - as_float(y_true, y_pred)));
}

Var huber(const Var& y_true, const Var& y_pred, double delta) {
  check_rank("huber", y_true, y_pred, 0);
  if (!(delta > 0)) throw std::invalid_argument("[huber] delta must be positive");
  Var a = abs(y_pred - as_float(y_true, y_pred));
  Var q = minimum(a, constant(delta, y_pred.dtype()));
  return mean(sqr(q) * 0.5 + (a - q) * delta);
}

Var LossSpec::operator()(const Var& y_true, const Var& y_pred) const {
  if (name == "sparse_categorical_crossentropy") return sparse_categorical_crossentropy(y_true, y_pred, from_logits);
  if (name == "categorical_crossentropy") return categorical_crossentropy(y_true, y_pred, from_logits);
  if (name == "binary_crossentropy") return binary_crossentropy(y_true, y_pred, from_logits);
  if (name == "mean_squared_error") return mean_squared_error(y_true, y_pred);
  if (name == "mean_absolute_error") return mean_absolute_error(y_true, y_pred);
  return huber(y_true, y_pred, delta);
}

LossSpec loss_by_name(const std::string& n, bool from_logits) {
  LossSpec s;
  s.from_logits = from_logits;
  if (n == "sparse_categorical_crossentropy" || n == "categorical_crossentropy" || n == "binary_crossentropy" ||
      n == "mean_squared_error" || n == "mean_absolute_error" || n == "huber")
    s.name = n;
  else if (n == "mse") s.name = "mean_squared_error";
  else if (n == "mae") s.name = "mean_absolute_error";
  else if (n == "huber_loss") s.name = "huber";
  else
    throw std::invalid_argument("[loss] unknown loss '" + n +
                                "'; expected sparse_categorical_crossentropy, categorical_crossentropy, "
                                "binary_crossentropy, mean_squared_error (mse), mean_absolute_error (mae) or huber");
  return s;
}

Var sparse_categorical_accuracy(const Var& y_true, const Var& y_pred) {
  check_rank("sparse_categorical_accuracy", y_true, y_pred, 1);
  return mean(cast(eq(argmax(y_pred, -1), cast(y_true, DType::Int64)), y_pred.dtype()));
}

Var categorical_accuracy(const Var& y_true, const Var& y_pred) {
  check_rank("categorical_accuracy", y_true, y_pred, 0);
  return mean(cast(eq(argmax(y_pred, -1), argmax(y_true, -1)), y_pred.dtype()));
}

Var binary_accuracy(const Var& y_true, const Var& y_pred, double threshold) {
  check_rank("binary_accuracy", y_true, y_pred, 0);
  Var p = cast(gt(y_pred, constant(threshold, y_pred.dtype())), y_pred.dtype());
  return mean(cast(eq(p, as_float(y_true, y_pred)), y_pred.dtype()));
}

Var sparse_top_k_categorical_accuracy(const Var& y_true, const Var& y_pred, int k) {
  check_rank("sparse_top_k_categorical_accuracy", y_true, y_pred, 1);
  if (y_pred.ndim() != 2)
    throw std::invalid_argument("[sparse_top_k_categorical_accuracy] expected (batch, classes) scores, got " +
                                y_pred.type().str());
  if (k <= 0) throw std::invalid_argument("[sparse_top_k_categorical_accuracy] k must be positive");
  Var classes = arange(shape_i(y_pred, 1));
  Var onehot = cast(eq(dimshuffle(classes, {-1, 0}), dimshuffle(cast(y_true, DType::Int64), {0, -1})), y_pred.dtype());
  Var own = sum(y_pred * onehot, std::vector<int>{1}, true);
  Var above = sum(cast(gt(y_pred, own), DType::Int64), std::vector<int>{1});
  return mean(cast(lt(above, constant(double(k), DType::Int64)), y_pred.dtype()));
}

MetricSpec metric_by_name(const std::string& n, const LossSpec& loss) {
  if (n == "accuracy" || n == "acc") {
    if (loss.sparse_targets()) return {"accuracy", sparse_categorical_accuracy};
    if (loss.name == "binary_crossentropy") {
      double th = loss.from_logits ? 0.0 : 0.5;
      return {"accuracy", [th](const Var& t, const Var& p) { return binary_accuracy(t, p, th); }};
    }
    return {"accuracy", categorical_accuracy};
  }
  if (n == "sparse_categorical_accuracy") return {n, sparse_categorical_accuracy};
  if (n == "categorical_accuracy") return {n, categorical_accuracy};
  if (n == "binary_accuracy") return {n, [](const Var& t, const Var& p) { return binary_accuracy(t, p); }};
  if (n == "mse" || n == "mean_squared_error") return {n, mean_squared_error};
  if (n == "mae" || n == "mean_absolute_error") return {n, mean_absolute_error};
  int k = 0;
  if (n == "top_k" || n == "sparse_top_k_categorical_accuracy") k = 5;
  else if (n.rfind("top_", 0) == 0 && n.size() > 13 && n.substr(n.size() - 9) == "_accuracy") {
    try {
      k = std::stoi(n.substr(4, n.size() - 13));
    } catch (const std::exception&) {
      k = 0;
    }
  }
  if (k > 0) return {"top_" + std::to_string(k) + "_accuracy", [k](const Var& t, const Var& p) {
                       return sparse_top_k_categorical_accuracy(t, p, k);
                     }};
  throw std::invalid_argument("[metric] unknown metric '" + n +
                              "'; expected accuracy, sparse_categorical_accuracy, categorical_accuracy, "
                              "binary_accuracy, top_k, top_<k>_accuracy, mse or mae");
}

}  // namespace theon::nn
