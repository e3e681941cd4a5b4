// theon/nn/progress.h — the per-epoch progress bar of Model::fit.
//
// On a terminal the bar is redrawn in place with '\r' (at most ten times a
// second): steps done, a bar, elapsed time and ETA, samples per second and the
// running loss/metrics. When stdout is not a terminal (a log file, CI) it
// prints nothing while the epoch runs and one clean line when it ends.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "theon/nn/callbacks.h"

namespace theon::nn {

class ProgressBar {
 public:
  // `tty` < 0: detect (isatty on stdout).
  ProgressBar(int epoch, int epochs, int64_t steps, int tty = -1);
  void update(int64_t step, int64_t samples, const Logs& logs);
  // Ends the epoch's line with the final logs (val_* included).
  void finish(int64_t samples, const Logs& logs);
  double elapsed() const;
  static std::string format_logs(const Logs& logs);

 private:
  void write(const std::string& s);
  int epoch_, epochs_;
  int64_t steps_;
  bool tty_;
  size_t last_len_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace theon::nn
