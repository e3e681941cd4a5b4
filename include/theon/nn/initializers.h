// theon/nn/initializers.h — initial values of layer parameters.
//
// An Initializer names a rule ("glorot_uniform", "he_normal", "orthogonal",
// "constant", ...) with its options and draws an array of a given shape from
// a seed, so the same seed always gives the same weights. Fans follow Keras:
// a matrix (in, out) has fan_in = in, fan_out = out; a convolution kernel
// (out, in/groups, rows, cols) has fan_in = in/groups * rows * cols and
// fan_out = out * rows * cols. The *_normal variants draw a normal truncated
// at two standard deviations, rescaled to keep the intended variance, as Keras does.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "theon/nn/json.h"
#include "theon/runtime/array.h"

namespace theon::nn {

struct Initializer {
  // glorot_uniform (xavier_uniform), glorot_normal (xavier_normal), he_uniform
  // (kaiming_uniform), he_normal (kaiming_normal), lecun_uniform, lecun_normal,
  // orthogonal {gain}, zeros, ones, constant {value}, uniform {minval, maxval},
  // normal {mean, stddev}.
  std::string name = "glorot_uniform";
  double value = 0;    // constant
  double gain = 1;     // orthogonal
  double a = -0.05, b = 0.05;  // uniform: minval, maxval; normal: mean, stddev

  Initializer() = default;
  Initializer(const char* n);         // NOLINT: "he_normal" converts
  Initializer(std::string n);         // NOLINT
  static Initializer constant(double v);
  static Initializer orthogonal(double gain = 1.0);
  static Initializer uniform(double minval, double maxval);
  static Initializer normal(double mean, double stddev);

  // Draws the values; throws std::invalid_argument for an unknown name or a
  // shape the rule cannot handle (orthogonal of rank < 2).
  Array operator()(const std::vector<int64_t>& shape, DType dtype, uint64_t seed) const;
  // {"name": ..., options...}; from_json accepts that or a bare name string.
  Json to_json() const;
  static Initializer from_json(const Json& j);
};

// (fan_in, fan_out) of a parameter shape, as described above.
std::pair<double, double> compute_fans(const std::vector<int64_t>& shape);

// Seeds for parameters created without an explicit seed come from a global
// sequence: set_global_seed(s) makes every later model reproducible.
void set_global_seed(uint64_t seed);
uint64_t next_seed();

}  // namespace theon::nn
