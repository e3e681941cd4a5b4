// The built-in callbacks (see theon/nn/callbacks.h).
#include "theon/nn/callbacks.h"

#include <cmath>
#include <cstdio>
#include <regex>
#include <stdexcept>

#include "theon/nn/model.h"

namespace theon::nn {

bool monitor_improved(const std::string& mode, const std::string& monitor, double current, double best, double min_delta) {
  bool maximize = mode == "max" || (mode == "auto" && monitor.find("acc") != std::string::npos);
  if (mode != "min" && mode != "max" && mode != "auto")
    throw std::invalid_argument("[callback] mode must be 'min', 'max' or 'auto', got '" + mode + "'");
  return maximize ? current > best + min_delta : current < best - min_delta;
}

static void check_mode(const std::string& who, const std::string& mode) {
  if (mode != "min" && mode != "max" && mode != "auto")
    throw std::invalid_argument("[" + who + "] mode must be 'min', 'max' or 'auto', got '" + mode + "'");
}

static Model* need_model(Model* m, const char* who) {
  if (!m) throw std::logic_error(std::string("[") + who + "] used outside Model::fit");
  return m;
}

// ---- EarlyStopping ----
EarlyStopping::EarlyStopping(std::string monitor, int patience, double min_delta, std::string mode, bool restore)
    : monitor_(std::move(monitor)), mode_(std::move(mode)), patience_(patience), min_delta_(std::fabs(min_delta)),
      restore_(restore) {
  check_mode("EarlyStopping", mode_);
  if (patience < 0) throw std::invalid_argument("[EarlyStopping] patience must be >= 0");
}

void EarlyStopping::on_train_begin(const Logs&) {
  has_best_ = false;
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = -1;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, const Logs& logs) {
  auto it = logs.find(monitor_);
  if (it == logs.end()) {
    std::fprintf(stderr, "EarlyStopping: '%s' is not in the logs; skipping\n", monitor_.c_str());
    return;
  }
  double cur = it->second;
  if (!has_best_ || monitor_improved(mode_, monitor_, cur, best_, min_delta_)) {
    has_best_ = true;
    best_ = cur;
    best_epoch_ = epoch;
    wait_ = 0;
    if (restore_) best_weights_ = need_model(model_, "EarlyStopping")->get_weights();
    return;
  }
  if (++wait_ >= std::max(patience_, 1)) {
    stopped_epoch_ = epoch;
    need_model(model_, "EarlyStopping")->stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (restore_ && !best_weights_.empty() && model_) model_->set_weights(best_weights_);
}

// ---- ModelCheckpoint ----
ModelCheckpoint::ModelCheckpoint(std::string filepath, std::string monitor, bool best_only, bool weights_only,
                                 std::string mode, int verbose)
    : path_(std::move(filepath)), monitor_(std::move(monitor)), mode_(std::move(mode)), best_only_(best_only),
      weights_only_(weights_only), verbose_(verbose) {
  check_mode("ModelCheckpoint", mode_);
  if (path_.empty()) throw std::invalid_argument("[ModelCheckpoint] filepath is empty");
}

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  Model* m = need_model(model_, "ModelCheckpoint");
  if (best_only_) {
    auto it = logs.find(monitor_);
    if (it == logs.end()) {
      std::fprintf(stderr, "ModelCheckpoint: '%s' is not in the logs; skipping\n", monitor_.c_str());
      return;
    }
    if (has_best_ && !monitor_improved(mode_, monitor_, it->second, best_, 0)) return;
    has_best_ = true;
    best_ = it->second;
  }
  // "{epoch}" and "{epoch:0Nd}" in the path become the 1-based epoch.
  std::string path = path_;
  static const std::regex pat(R"(\{epoch(?::0?(\d+)d)?\})");
  std::smatch mt;
  while (std::regex_search(path, mt, pat)) {
    std::string num = std::to_string(epoch + 1);
    if (mt[1].matched) {
      size_t w = size_t(std::stoi(mt[1].str()));
      if (num.size() < w) num = std::string(w - num.size(), '0') + num;
    }
    path = mt.prefix().str() + num + mt.suffix().str();
  }
  if (weights_only_) m->save_weights(path);
  else m->save(path);
  last_ = path;
  if (verbose_) std::printf("ModelCheckpoint: saved %s\n", path.c_str());
}

// ---- CSVLogger ----
CSVLogger::CSVLogger(std::string filename, std::string separator, bool append)
    : filename_(std::move(filename)), sep_(std::move(separator)), append_(append) {}

CSVLogger::~CSVLogger() {
  if (f_) std::fclose(f_);
}

void CSVLogger::on_train_begin(const Logs&) {
  if (f_) std::fclose(f_);
  bool had = false;
  if (append_) {
    if (std::FILE* t = std::fopen(filename_.c_str(), "r")) {
      had = std::fgetc(t) != EOF;
      std::fclose(t);
    }
  }
  f_ = std::fopen(filename_.c_str(), append_ ? "a" : "w");
  if (!f_) throw std::runtime_error("[CSVLogger] cannot open '" + filename_ + "' for writing");
  keys_.clear();
  if (had) keys_.push_back("");  // a header is already there
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  if (!f_) return;
  if (keys_.empty() || (keys_.size() == 1 && keys_[0].empty())) {
    bool write_header = keys_.empty();
    keys_.clear();
    for (const auto& [k, v] : logs) keys_.push_back(k);
    if (write_header) {
      std::fputs("epoch", f_);
      for (const auto& k : keys_) std::fprintf(f_, "%s%s", sep_.c_str(), k.c_str());
      std::fputs("\n", f_);
    }
  }
  std::fprintf(f_, "%d", epoch);
  for (const auto& k : keys_) {
    auto it = logs.find(k);
    if (it == logs.end()) std::fputs(sep_.c_str(), f_);
    else std::fprintf(f_, "%s%.17g", sep_.c_str(), it->second);
  }
  std::fputs("\n", f_);
  std::fflush(f_);
}

void CSVLogger::on_train_end(const Logs&) {
  if (f_) std::fclose(f_);
  f_ = nullptr;
}

// ---- LearningRateScheduler ----
LearningRateScheduler::LearningRateScheduler(std::function<double(int64_t, double)> schedule, int verbose)
    : epoch_fn_(std::move(schedule)), verbose_(verbose) {
  if (!epoch_fn_) throw std::invalid_argument("[LearningRateScheduler] empty schedule");
}

LearningRateScheduler::LearningRateScheduler(std::function<double(int64_t)> schedule, bool per_step, int verbose)
    : step_fn_(std::move(schedule)), per_step_(per_step), verbose_(verbose) {
  if (!step_fn_) throw std::invalid_argument("[LearningRateScheduler] empty schedule");
}

static void set_lr(Model* m, double lr) {
  if (!std::isfinite(lr)) throw std::invalid_argument("[LearningRateScheduler] the schedule returned a non-finite rate");
  if (!m->optimizer()) throw std::logic_error("[LearningRateScheduler] the model has no optimizer");
  m->optimizer()->set_learning_rate(lr);
}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  Model* m = need_model(model_, "LearningRateScheduler");
  if (per_step_) return;
  double lr = epoch_fn_ ? epoch_fn_(epoch, m->optimizer()->get_learning_rate()) : step_fn_(epoch);
  set_lr(m, lr);
  if (verbose_) std::printf("Epoch %d: LearningRateScheduler setting learning rate to %g.\n", epoch + 1, lr);
}

void LearningRateScheduler::on_batch_begin(int64_t, const Logs&) {
  if (!per_step_) return;
  set_lr(need_model(model_, "LearningRateScheduler"), step_fn_(step_++));
}

}  // namespace theon::nn
