// theon/nn/schedules.h — learning-rate schedules.
//
// A schedule maps a step count to a learning rate; the training loop (or a
// callback) calls it and passes the value to Optimizer::set_learning_rate
// between calls of the compiled training function, so changing the rate never
// recompiles anything. What a step is depends on the caller: call the schedule
// once per epoch with the epoch index (Keras's LearningRateScheduler) or once
// per batch with the number of batches done so far (Keras's schedules handed
// to an optimizer, which read its iteration counter) — the formulas are the
// same, only decay_steps/every_n must be counted in the same unit. Steps start
// at 0; a negative step is an error.
//
//   theon::nn::Schedule s = theon::nn::warmup(theon::nn::cosine_decay(1e-3, 10000), 500);
//   opt->set_learning_rate(s(step));
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace theon::nn {

using Schedule = std::function<double(int64_t step)>;

// initial * drop ^ floor(step / every_n)  (the classic Keras step-decay callback).
Schedule step_decay(double initial, double drop, int64_t every_n);

// initial * decay_rate ^ (step / decay_steps), the exponent floored when
// staircase (keras.optimizers.schedules.ExponentialDecay).
Schedule exponential_decay(double initial, int64_t decay_steps, double decay_rate, bool staircase = false);

// initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha):
// from initial down to alpha * initial at decay_steps, then constant
// (keras.optimizers.schedules.CosineDecay without its warmup).
Schedule cosine_decay(double initial, int64_t decay_steps, double alpha = 0);

// Linear warmup, then `after`: for step < warmup_steps the rate goes
// linearly from start to after(0), start + (after(0) - start) * step / warmup_steps;
// from warmup_steps on it is after(step - warmup_steps), so `after` starts
// from its own step 0 when the warmup ends.
Schedule warmup(Schedule after, int64_t warmup_steps, double start = 0);

// values[0] while step <= boundaries[0], values[i] while
// boundaries[i-1] < step <= boundaries[i], values.back() after the last
// boundary (keras.optimizers.schedules.PiecewiseConstantDecay). Needs
// values.size() == boundaries.size() + 1 and increasing boundaries.
Schedule piecewise_constant(std::vector<int64_t> boundaries, std::vector<double> values);

}  // namespace theon::nn
