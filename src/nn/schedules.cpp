// Learning-rate schedules: closures over their (checked) parameters.
#include "theon/nn/schedules.h"

#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>

namespace theon::nn {

namespace {

void check_step(const char* who, int64_t step) {
  if (step < 0) throw std::invalid_argument(std::string("[") + who + "] step must be >= 0, got " + std::to_string(step));
}

void check_positive(const char* who, const char* what, int64_t v) {
  if (v <= 0) throw std::invalid_argument(std::string("[") + who + "] " + what + " must be > 0, got " + std::to_string(v));
}

void check_finite(const char* who, const char* what, double v) {
  if (!std::isfinite(v)) {
    std::ostringstream os;
    os << "[" << who << "] " << what << " must be finite, got " << v;
    throw std::invalid_argument(os.str());
  }
}

}  // namespace

Schedule step_decay(double initial, double drop, int64_t every_n) {
  check_finite("step_decay", "initial", initial);
  check_finite("step_decay", "drop", drop);
  check_positive("step_decay", "every_n", every_n);
  return [=](int64_t step) {
    check_step("step_decay", step);
    return initial * std::pow(drop, double(step / every_n));
  };
}

Schedule exponential_decay(double initial, int64_t decay_steps, double decay_rate, bool staircase) {
  check_finite("exponential_decay", "initial", initial);
  check_finite("exponential_decay", "decay_rate", decay_rate);
  check_positive("exponential_decay", "decay_steps", decay_steps);
  return [=](int64_t step) {
    check_step("exponential_decay", step);
    double p = double(step) / double(decay_steps);
    if (staircase) p = std::floor(p);
    return initial * std::pow(decay_rate, p);
  };
}

Schedule cosine_decay(double initial, int64_t decay_steps, double alpha) {
  check_finite("cosine_decay", "initial", initial);
  check_finite("cosine_decay", "alpha", alpha);
  check_positive("cosine_decay", "decay_steps", decay_steps);
  return [=](int64_t step) {
    check_step("cosine_decay", step);
    double p = double(std::min(step, decay_steps)) / double(decay_steps);
    double cosine = 0.5 * (1 + std::cos(std::numbers::pi * p));
    return initial * ((1 - alpha) * cosine + alpha);
  };
}

Schedule warmup(Schedule after, int64_t warmup_steps, double start) {
  if (!after) throw std::invalid_argument("[warmup] the schedule after the warmup is empty");
  check_positive("warmup", "warmup_steps", warmup_steps);
  check_finite("warmup", "start", start);
  return [after = std::move(after), warmup_steps, start](int64_t step) {
    check_step("warmup", step);
    if (step >= warmup_steps) return after(step - warmup_steps);
    return start + (after(0) - start) * double(step) / double(warmup_steps);
  };
}

Schedule piecewise_constant(std::vector<int64_t> boundaries, std::vector<double> values) {
  if (values.size() != boundaries.size() + 1)
    throw std::invalid_argument("[piecewise_constant] needs one more value than boundaries, got " +
                                std::to_string(values.size()) + " values and " + std::to_string(boundaries.size()) +
                                " boundaries");
  for (size_t i = 1; i < boundaries.size(); ++i)
    if (boundaries[i] <= boundaries[i - 1])
      throw std::invalid_argument("[piecewise_constant] boundaries must be increasing");
  for (double v : values) check_finite("piecewise_constant", "a value", v);
  return [b = std::move(boundaries), v = std::move(values)](int64_t step) {
    check_step("piecewise_constant", step);
    size_t i = 0;
    while (i < b.size() && step > b[i]) ++i;
    return v[i];
  };
}

}  // namespace theon::nn
