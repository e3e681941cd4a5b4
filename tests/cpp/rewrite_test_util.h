// Helpers shared by the optimizer's tests: compile with and without rewrites,
// count ops in the compiled program, compare results.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <theon/theon.h>

namespace theon::testing {

inline std::shared_ptr<Function> compile(const std::vector<Var>& ins, const std::vector<Var>& outs,
                                         Mode mode = "FAST_RUN") {
  FunctionOptions o;
  o.mode = std::move(mode);
  o.on_unused_input = "ignore";
  std::vector<In> in(ins.begin(), ins.end());
  return function(in, outs, o);
}

// How many nodes of the compiled program have an op whose name starts with `prefix`.
inline int count_ops(const Function& f, const std::string& prefix) {
  int n = 0;
  for (const ApplyNode* node : f.nodes()) n += node->op->name().rfind(prefix, 0) == 0;
  return n;
}

inline int fired(const Function& f, const std::string& rewrite) {
  auto it = f.rewrites_applied().find(rewrite);
  return it == f.rewrites_applied().end() ? 0 : it->second;
}

inline Array random_array(DType dtype, const Shape& shape, uint64_t seed, double lo = -3, double hi = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Array a = Array::empty(DType::Float64, shape);
  double* p = a.data_as<double>();
  for (int64_t i = 0; i < a.size(); ++i) p[i] = is_float(dtype) ? u(rng) : std::round(u(rng));
  return a.astype(dtype);
}

// Asserts two arrays hold the same values (dtype, shape; floats to a dtype-sized tolerance).
inline void expect_same_values(const Array& want, const Array& got, const std::string& what) {
  ASSERT_EQ(dtype_name(want.dtype()), dtype_name(got.dtype())) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  Array w = want.astype(DType::Float64), g = got.astype(DType::Float64);
  double rtol = want.dtype() == DType::Float64 ? 1e-10 : want.dtype() == DType::Float32 ? 1e-5 : 1e-2;
  if (!is_float(want.dtype())) rtol = 0;
  for (int64_t i = 0; i < w.size(); ++i) {
    double a = w.data_as<double>()[i], b = g.data_as<double>()[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (a == b) continue;
    ASSERT_LE(std::abs(a - b), rtol * (1 + std::abs(a))) << what << ": element " << i << " want " << a << " got " << b;
  }
}

// Differential check: the optimized function computes what the graph as written computes.
inline std::shared_ptr<Function> expect_same_as_unoptimized(const std::vector<Var>& ins, const std::vector<Var>& outs,
                                                            const std::vector<Array>& values,
                                                            Mode mode = "FAST_RUN") {
  auto ref = compile(ins, outs, "None");
  auto opt = compile(ins, outs, mode);
  EXPECT_TRUE(opt->rewrite_stats().warnings.empty())
      << (opt->rewrite_stats().warnings.empty() ? "" : opt->rewrite_stats().warnings[0]);
  auto want = (*ref)(values);
  auto got = (*opt)(values);
  for (size_t i = 0; i < want.size(); ++i) expect_same_values(want[i], got[i], "output " + std::to_string(i));
  return opt;
}

}  // namespace theon::testing
