// The progress bar of Model::fit (see theon/nn/progress.h).
#include "theon/nn/progress.h"

#include <unistd.h>

#include <cstdio>

namespace theon::nn {

namespace {
std::string fmt_time(double s) {
  char b[32];
  if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else if (s >= 60) std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(s) % 60);
  else std::snprintf(b, sizeof b, "%.1fs", s);
  return b;
}
}  // namespace

ProgressBar::ProgressBar(int epoch, int epochs, int64_t steps, int tty)
    : epoch_(epoch), epochs_(epochs), steps_(steps), tty_(tty < 0 ? isatty(fileno(stdout)) != 0 : tty != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (tty_) write("Epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs_) + "\n");
}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::format_logs(const Logs& logs) {
  std::string r;
  char b[64];
  // As Keras prints them: loss, the metrics, then val_loss and the val_ metrics.
  for (int pass = 0; pass < 2; ++pass) {
    const std::string loss = pass ? "val_loss" : "loss";
    auto it = logs.find(loss);
    if (it != logs.end()) {
      std::snprintf(b, sizeof b, " - %s: %.4f", loss.c_str(), it->second);
      r += b;
    }
    for (const auto& [k, v] : logs) {
      if ((k.rfind("val_", 0) == 0) != (pass == 1) || k == loss || k == "epoch_seconds") continue;
      std::snprintf(b, sizeof b, " - %s: %.4f", k.c_str(), v);
      r += b;
    }
  }
  return r;
}

void ProgressBar::write(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
}

void ProgressBar::update(int64_t step, int64_t samples, const Logs& logs) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (step < steps_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
  last_draw_ = now;
  double t = elapsed();
  double eta = step > 0 ? t / double(step) * double(steps_ - step) : 0;
  const int width = 30;
  int filled = steps_ > 0 ? int(width * step / steps_) : width;
  std::string bar(size_t(filled), '=');
  if (filled < width) bar += '>' + std::string(size_t(width - filled - 1), '.');
  char head[160];
  int digits = int(std::to_string(steps_).size());
  std::snprintf(head, sizeof head, "%*lld/%lld [%s] %s ETA %s - %.0f samples/s", digits, static_cast<long long>(step),
                static_cast<long long>(steps_), bar.c_str(), fmt_time(t).c_str(), fmt_time(eta).c_str(),
                t > 0 ? double(samples) / t : 0.0);
  std::string line = std::string("\r") + head + format_logs(logs);
  size_t len = line.size();
  if (len < last_len_) line += std::string(last_len_ - len, ' ');
  last_len_ = len;
  write(line);
}

void ProgressBar::finish(int64_t samples, const Logs& logs) {
  double t = elapsed();
  char head[200];
  double per_step = steps_ > 0 ? t / double(steps_) * 1000 : 0;
  if (tty_) {
    std::string bar(30, '=');
    std::snprintf(head, sizeof head, "\r%lld/%lld [%s] %s %.0fms/step - %.0f samples/s", static_cast<long long>(steps_),
                  static_cast<long long>(steps_), bar.c_str(), fmt_time(t).c_str(), per_step,
                  t > 0 ? double(samples) / t : 0.0);
  } else {
    std::snprintf(head, sizeof head, "Epoch %d/%d - %lld steps - %s (%.0fms/step, %.0f samples/s)", epoch_ + 1, epochs_,
                  static_cast<long long>(steps_), fmt_time(t).c_str(), per_step, t > 0 ? double(samples) / t : 0.0);
  }
  std::string line = head + format_logs(logs);
  size_t len = line.size();
  if (tty_ && len < last_len_) line += std::string(last_len_ - len, ' ');
  write(line + "\n");
}

}  // namespace theon::nn
