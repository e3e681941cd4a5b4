// Scalar programs covering the elementwise table, shared by the CUDA code
// generation tests (NVRTC compilation, and the kernels run on the host).
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "theon/backend/cuda_codegen.h"
#include "theon/ops/composite.h"

namespace theon::testing {

inline std::vector<DType> all_dtypes() {
  std::vector<DType> ds;
  for (int i = 0; i < kNumDTypes; ++i) ds.push_back(DType(i));
  return ds;
}

// Programs applying every table op that has a loop for inputs of dtype d
// (operands a, b, c of dtype d and a bool condition), each result an
// output, at most `per_program` outputs per program. skip_pow leaves out
// integer pow (the CPU raises for a negative exponent; tested on its own).
// With `seen`, an op whose (op, kernel dtype) instantiation an earlier call
// already covered is left out (its code differs only by the input conversion,
// which the dtype's first such op still covers); the set is updated.
inline std::vector<std::shared_ptr<Composite>> table_programs(
    DType d, size_t per_program = 40, bool skip_pow = false,
    std::set<std::pair<int, int>>* seen = nullptr) {
  std::vector<std::shared_ptr<Composite>> out;
  ScalarProgram p;
  auto flush = [&] {
    if (p.outputs.empty()) return;
    out.push_back(std::make_shared<Composite>(p));
    p.instrs.clear();
    p.outputs.clear();
  };
  p.inputs = {d, d, d, DType::Bool};
  bool converted = false;  // an op converting d to another kernel dtype is in
  for (const ScalarOpInfo& info : scalar_ops()) {
    if (skip_pow && info.id == ScalarOpId::pow && is_integer(d)) continue;
    std::vector<int> args;
    if (info.arity == 1)
      args = {0};
    else if (info.arity == 2)
      args = {0, 1};
    else if (info.id == ScalarOpId::switch_)
      args = {3, 0, 1};
    else
      args = {0, 1, 2};
    std::vector<DType> ds;
    for (int a : args) ds.push_back(p.inputs[size_t(a)]);
    try {
      elemwise_result_dtype(info.id, ds);
    } catch (const std::invalid_argument&) {
      continue;  // no loop for this dtype (bitwise on floats, sub on bool, ...)
    }
    if (seen) {
      const DType k = elemwise_kernel_dtype(info.id, ds);
      const bool converts = k != d && !(info.id == ScalarOpId::switch_);
      if (!seen->insert({int(info.id), int(k)}).second && !(converts && !converted)) continue;
      converted = converted || converts;
    }
    ScalarInstr ins;
    ins.op = info.id;
    ins.args = args;
    p.instrs.push_back(ins);
    p.outputs.push_back(4 + int(p.instrs.size()) - 1);
    if (p.outputs.size() == per_program) flush();
  }
  flush();
  return out;
}

// One program mixing dtypes: promotions across kinds, casts in both
// directions (float -> int, double -> float16), bool conditions, float16 and
// bfloat16 chains rounded after each step.
inline std::shared_ptr<Composite> mixed_program() {
  ScalarProgram p;
  // 0 f16, 1 i32, 2 u8, 3 bf16, 4 f64, 5 bool, 6 i64, 7 f32, 8 u64
  p.inputs = {DType::Float16, DType::Int32, DType::UInt8,   DType::BFloat16, DType::Float64,
              DType::Bool,    DType::Int64, DType::Float32, DType::UInt64};
  auto op = [&](ScalarOpId id, std::vector<int> args) {
    ScalarInstr i;
    i.op = id;
    i.args = std::move(args);
    p.instrs.push_back(i);
    return int(p.inputs.size() + p.instrs.size()) - 1;
  };
  auto cast = [&](DType to, int a) {
    ScalarInstr i;
    i.is_cast = true;
    i.to = to;
    i.args = {a};
    p.instrs.push_back(i);
    return int(p.inputs.size() + p.instrs.size()) - 1;
  };
  const int h2 = op(ScalarOpId::mul, {0, 0});          // f16 * f16, rounded to f16
  const int s = op(ScalarOpId::add, {h2, 1});          // f16 + i32 -> f64
  const int i8 = cast(DType::Int8, s);                 // f64 -> i8 (wraps / minimum)
  const int w = op(ScalarOpId::mul, {i8, 2});          // i8 * u8 -> i16
  const int q = op(ScalarOpId::true_div, {w, 3});      // i16 / bf16 -> f32
  const int sg = op(ScalarOpId::sigmoid, {3});         // bf16 in float32, rounded
  const int sw = op(ScalarOpId::switch_, {5, 0, 3});   // where(bool, f16, bf16) -> f32
  const int gt = op(ScalarOpId::gt, {4, 6});           // f64 > i64
  const int h = cast(DType::Float16, 4);               // f64 -> f16 without double rounding
  const int md = op(ScalarOpId::mod, {6, 1});          // i64 % i32, NumPy's sign rule
  const int fd = op(ScalarOpId::int_div, {7, 4});      // f32 // f64
  const int u = op(ScalarOpId::add, {8, 2});           // u64 + u8, wraps
  const int mx = op(ScalarOpId::maximum, {7, 0});      // f32 max f16 (NaN propagates)
  const int cl = op(ScalarOpId::clip, {4, 7, 0});      // clip(f64, f32, f16)
  const int lg = op(ScalarOpId::logical_and, {5, 1});  // bool and i32
  const int ex = cast(DType::UInt16, 7);               // f32 -> u16 (negative wraps through int64)
  p.outputs = {h2, s, i8, w, q, sg, sw, gt, h, md, fd, u, mx, cl, lg, ex};
  return std::make_shared<Composite>(p);
}

// The sources of several programs in one translation unit: each in a
// namespace of its own, kernels named <prefix><k>_contig / _strided.
inline std::string combined_source(const std::vector<std::shared_ptr<Composite>>& programs,
                                   const std::string& prefix = "k") {
  std::string src;
  for (size_t k = 0; k < programs.size(); ++k)
    src += "namespace p" + std::to_string(k) + " {\n" +
           cuda::fused_kernel_source(*programs[k], prefix + std::to_string(k)).source + "}\n";
  return src;
}

}  // namespace theon::testing
