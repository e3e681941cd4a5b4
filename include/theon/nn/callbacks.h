// theon/nn/callbacks.h — hooks into Model::fit: early stopping, checkpoints, CSV logs, LR schedules.
//
// fit calls every callback at the start and end of training, of each epoch and
// of each batch, passing the logs so far (loss and metrics as running means
// over the epoch; at epoch end also val_* entries). Users subclass Callback
// (in C++, or in Python through the binding) and may set
// model()->stop_training to end training after the current epoch.
#pragma once
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "theon/runtime/array.h"

namespace theon::nn {

class Model;
using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void set_model(Model* model) { model_ = model; }
  Model* model() const { return model_; }
  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs&) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs&) {}
  virtual void on_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_batch_end(int64_t /*batch*/, const Logs&) {}

 protected:
  Model* model_ = nullptr;
};
using CallbackPtr = std::shared_ptr<Callback>;

// mode "min" / "max" / "auto" (max for names containing "acc", else min).
bool monitor_improved(const std::string& mode, const std::string& monitor, double current, double best, double min_delta);

// Stops training when `monitor` has not improved by more than min_delta for
// `patience` epochs; with restore_best_weights the model ends training with
// the weights of its best epoch.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(std::string monitor = "val_loss", int patience = 0, double min_delta = 0,
                         std::string mode = "auto", bool restore_best_weights = false);
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs&) override;
  int stopped_epoch() const { return stopped_epoch_; }  // -1: did not stop early
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  std::string monitor_, mode_;
  int patience_;
  double min_delta_;
  bool restore_;
  double best_ = 0;
  bool has_best_ = false;
  int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  std::vector<Array> best_weights_;
};

// Saves the model (or only its weights) after each epoch to `filepath`, in
// which "{epoch}" or "{epoch:02d}" is replaced by the 1-based epoch; with
// save_best_only, only when `monitor` improved.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, std::string monitor = "val_loss", bool save_best_only = false,
                           bool save_weights_only = false, std::string mode = "auto", int verbose = 0);
  void on_epoch_end(int epoch, const Logs& logs) override;
  // The path of the last save ("" before any).
  const std::string& last_saved() const { return last_; }

 private:
  std::string path_, monitor_, mode_;
  bool best_only_, weights_only_;
  int verbose_;
  bool has_best_ = false;
  double best_ = 0;
  std::string last_;
};

// Writes one CSV row per epoch: "epoch" then the log keys in sorted order.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, std::string separator = ",", bool append = false);
  ~CSVLogger() override;
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs&) override;

 private:
  std::string filename_, sep_;
  bool append_;
  std::FILE* f_ = nullptr;
  std::vector<std::string> keys_;
};

// Sets the optimizer's learning rate from a schedule: schedule(epoch, lr) at
// the start of each epoch (Keras), or, with per_step, step_schedule(step) before
// each batch, where step counts batches from the start of training (the
// schedules of theon/nn/schedules.h).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int64_t epoch, double lr)> schedule, int verbose = 0);
  // A schedule of one argument: called with the epoch, or with the step when per_step.
  LearningRateScheduler(std::function<double(int64_t)> schedule, bool per_step, int verbose = 0);
  void on_train_begin(const Logs&) override { step_ = 0; }
  void on_epoch_begin(int epoch, const Logs&) override;
  void on_batch_begin(int64_t batch, const Logs&) override;

 private:
  std::function<double(int64_t, double)> epoch_fn_;
  std::function<double(int64_t)> step_fn_;
  bool per_step_ = false;
  int verbose_;
  int64_t step_ = 0;
};

}  // namespace theon::nn
