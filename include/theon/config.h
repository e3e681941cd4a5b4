// theon/config.h — global configuration (Theano's `theano.config`).
//
// Read once from the THEON_FLAGS environment variable
// ("floatX=float64,profile=True"), then changeable at run time.
#pragma once
#include <string>

#include "theon/runtime/dtype.h"

namespace theon {

struct Config {
  DType floatX = DType::Float32;   // default float dtype of T.matrix() & co.
  std::string mode = "FAST_RUN";   // default compilation mode
  // Rewrites of FAST_RUN: fast_run | fast_compile | merge | None; and rewrite
  // names or tags (colon-separated) added, removed or required in every mode.
  std::string optimizer = "fast_run";
  std::string optimizer_including, optimizer_excluding, optimizer_requiring;
  std::string device = "cpu";     // cpu | cuda | cuda:N (backend/device.h)
  // A function compiled for a CUDA device runs the ops without a CUDA kernel
  // on the CPU (with a warning) instead of failing to compile.
  bool allow_cpu_fallback = false;
  // float32 products and convolutions on a CUDA device (as PyTorch's
  // set_float32_matmul_precision): "highest" exact float32 (the CPU's
  // precision), "high" TF32 tensor cores (10-bit mantissa inputs, float32
  // accumulation), "medium" bfloat16 tensor cores. The CPU ignores it.
  std::string float32_matmul_precision = "highest";
  bool profile = false;
  bool compute_test_value = false;
  std::string on_unused_input = "raise";
  int num_threads = 0;  // 0: all cores

  // Sets one option from its string form; throws naming an unknown key or bad value.
  void set(const std::string& key, const std::string& value);
  std::string get(const std::string& key) const;
};

// The process-wide configuration, initialised from THEON_FLAGS on first use.
Config& config();

// Parses "key=value,key=value" into config(); throws on an unknown key.
void parse_flags(const std::string& flags);

}  // namespace theon
