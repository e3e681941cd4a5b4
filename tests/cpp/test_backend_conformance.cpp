// Backend conformance: one list of cases (fused elementwise graphs over
// several dtypes, broadcasting and strided inputs, a gradient, gemm, conv2d)
// run on every backend against the CPU reference, the graph evaluated
// unoptimized (mode None). Rows are Case x Backend; the CUDA rows run the
// backend's kernels (NVRTC-compiled fused composites, cuBLAS, cuDNN) on
// cuda:0 and are skipped, with the reason, where no GPU can be used. A case
// the CUDA backend has no kernel for yet is skipped saying which.
#include <gtest/gtest.h>
#include <theon/theon.h>

#include <functional>
#include <random>

#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_libs.h"
#include "theon/backend/cuda_memory.h"

namespace theon::testing {
namespace {

struct Case {
  std::string name;
  std::vector<Var> inputs;
  std::vector<Var> outputs;
  std::vector<Array> values;
  double rtol = 1e-12;
};

Array randn(DType d, const Shape& shape, uint64_t seed, double lo = -3, double hi = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = is_float(d) ? u(rng) : std::round(u(rng));
  return Array::from_vector(v, shape).astype(d);
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  {
    Var x = matrix(DType::Float32, "x"), y = matrix(DType::Float32, "y");
    cs.push_back({"exp_mul_add_float32",
                  {x, y},
                  {exp(x) * y + 1.0},
                  {randn(DType::Float32, {33, 17}, 1), randn(DType::Float32, {33, 17}, 2)},
                  1e-5});
  }
  {
    Var x = matrix(DType::Float64, "x");
    cs.push_back({"leaky_relu_float64",
                  {x},
                  {switch_(gt(x, constant(0.0, DType::Float64)), x, x * 0.1)},
                  {randn(DType::Float64, {8, 50}, 3)}});
  }
  {
    Var x = vector(DType::Float16, "x"), y = vector(DType::Float16, "y");
    cs.push_back({"sigmoid_softplus_float16",
                  {x, y},
                  {sigmoid(x) + softplus(y)},
                  {randn(DType::Float16, {300}, 4), randn(DType::Float16, {300}, 5)},
                  2e-3});
  }
  {
    Var x = vector(DType::BFloat16, "x");
    cs.push_back(
        {"tanh_sqr_bfloat16", {x}, {tanh(x) * sqr(x)}, {randn(DType::BFloat16, {257}, 6)}, 1e-2});
  }
  {
    Var a = vector(DType::Int32, "a"), b = vector(DType::Int32, "b");
    cs.push_back({"floor_div_mod_int32",
                  {a, b},
                  {int_div(a, b) + mod(a, b) * a},
                  {randn(DType::Int32, {200}, 7, -50, 50), randn(DType::Int32, {200}, 8, -9, 9)},
                  0});
  }
  {
    Var a = vector(DType::UInt8, "a"), b = vector(DType::UInt8, "b");
    cs.push_back({"wrapping_uint8",
                  {a, b},
                  {a * b + a},
                  {randn(DType::UInt8, {100}, 9, 0, 255), randn(DType::UInt8, {100}, 10, 0, 255)},
                  0});
  }
  {
    Var x = matrix(DType::Float64, "x"), r = vector(DType::Float64, "r"),
        c = matrix(DType::Float64, "c");
    cs.push_back({"broadcast_row_column_float64",
                  {x, r, c},
                  {maximum(x, r) - minimum(x, c) * r},
                  {randn(DType::Float64, {6, 11}, 11), randn(DType::Float64, {11}, 12),
                   randn(DType::Float64, {6, 1}, 13)}});
  }
  {
    Var x = matrix(DType::Float32, "x");
    cs.push_back({"transposed_input_float32",
                  {x},
                  {cast(cast(x * 40.0, DType::Int16), DType::Float32) + x},
                  {randn(DType::Float32, {13, 7}, 14).transpose()},
                  1e-6});
  }
  {
    Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
    Var cost = sum(sigmoid(x) * y);
    cs.push_back({"grad_sigmoid_float64",
                  {x, y},
                  {grad(cost, x)},
                  {randn(DType::Float64, {64}, 15), randn(DType::Float64, {64}, 16)}});
  }
  {
    Var a = matrix(DType::Float32, "a"), b = matrix(DType::Float32, "b");
    cs.push_back({"gemm_float32",
                  {a, b},
                  {dot(a, b)},
                  {randn(DType::Float32, {31, 20}, 17), randn(DType::Float32, {20, 9}, 18)},
                  1e-5});
  }
  {
    Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x"),
        w = tensor(DType::Float64, {-1, -1, -1, -1}, "w");
    ConvParams p;
    p.filter_flip = false;
    cs.push_back(
        {"conv2d_float64",
         {x, w},
         {conv2d(x, w, p)},
         {randn(DType::Float64, {2, 3, 8, 7}, 19), randn(DType::Float64, {4, 3, 3, 2}, 20)}});
  }
  return cs;
}

std::vector<Array> run_function(const Case& c, const Mode& mode) {
  FunctionOptions o;
  o.mode = mode;
  o.device = "cpu";
  auto f = function(std::vector<In>(c.inputs.begin(), c.inputs.end()), c.outputs, o);
  return (*f)(c.values);
}

void expect_close(const Array& want, const Array& got, double rtol, const std::string& what) {
  ASSERT_EQ(dtype_name(want.dtype()), dtype_name(got.dtype())) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  const Array w = want.astype(DType::Float64), g = got.astype(DType::Float64);
  for (int64_t i = 0; i < w.size(); ++i) {
    const double a = w.data_as<double>()[i], b = g.data_as<double>()[i];
    if ((std::isnan(a) && std::isnan(b)) || a == b) continue;
    ASSERT_LE(std::abs(a - b), rtol * (1 + std::abs(a)))
        << what << ": element " << i << " want " << a << " got " << b;
  }
}

// Elementwise graphs: the CPU optimizer fuses them into one Composite over
// the inputs, which the CUDA backend compiles and runs. Returns it (kept
// alive by f) with the values of its inputs, or null and the reason.
const Composite* fused_composite(const Case& c, std::shared_ptr<Function>& f,
                                 std::vector<Array>& ins, std::string& unsupported) {
  FunctionOptions o;
  o.device = "cpu";
  f = function(std::vector<In>(c.inputs.begin(), c.inputs.end()), c.outputs, o);
  const Composite* comp = nullptr;
  for (const ApplyNode* n : f->nodes()) {
    comp = dynamic_cast<const Composite*>(n->op.get());
    if (!comp || f->nodes().size() != 1) {
      unsupported = "no CUDA kernel yet for " + n->op->name().substr(0, 80) +
                    " (the graph is not one fused composite)";
      return nullptr;
    }
  }
  if (!comp) {
    unsupported = "the graph has no fused composite";
    return nullptr;
  }
  for (const Var& in : f->nodes()[0]->inputs) {
    if (in->kind == VarKind::Constant) {
      ins.push_back(in->value);
      continue;
    }
    auto it =
        std::find_if(c.inputs.begin(), c.inputs.end(), [&](const Var& v) { return v.is(in); });
    if (it == c.inputs.end()) {
      unsupported = "the composite reads an intermediate value";
      return nullptr;
    }
    ins.push_back(c.values[size_t(it - c.inputs.begin())]);
  }
  return comp;
}

// The CUDA backend's answer for a case, or the reason it has none yet.
std::vector<Array> run_cuda(const Case& c, std::string& unsupported) {
  if (c.name == "gemm_float32") {
    const Array a = c.values[0].copy(), b = c.values[1].copy();
    const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
    cuda::DeviceBuffer da = cuda::upload(a, 0), db = cuda::upload(b, 0), dc(size_t(m * n) * 4, 0);
    cuda::gemm(0, false, false, m, n, k, 1, da.data(), k, db.data(), n, 0, dc.data(), n,
               DType::Float32);
    return {cuda::download(dc, DType::Float32, {m, n})};
  }
  if (c.name == "conv2d_float64") {
    if (!cuda::have_cudnn()) {
      unsupported = "built without cuDNN";
      return {};
    }
    const Array x = c.values[0].copy(), w = c.values[1].copy();
    cuda::Conv2dShape s;
    s.n = x.shape()[0], s.c = x.shape()[1], s.h = x.shape()[2], s.w = x.shape()[3];
    s.k = w.shape()[0], s.r = w.shape()[2], s.s = w.shape()[3];
    cuda::DeviceBuffer dx = cuda::upload(x, 0), dw = cuda::upload(w, 0);
    cuda::DeviceBuffer dy(size_t(s.n * s.k * s.out_h() * s.out_w()) * 8, 0);
    cuda::conv2d_forward(0, s, DType::Float64, dx.data(), dw.data(), dy.data());
    return {cuda::download(dy, DType::Float64, {s.n, s.k, s.out_h(), s.out_w()})};
  }
  std::shared_ptr<Function> f;
  std::vector<Array> ins;
  const Composite* comp = fused_composite(c, f, ins, unsupported);
  if (!comp) return {};
  return cuda::run_composite(*comp, ins, 0);
}

class Conformance : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Conformance, MatchesTheCpuReference) {
  const auto& [case_name, backend] = GetParam();
  std::vector<Case> all = cases();
  auto it =
      std::find_if(all.begin(), all.end(), [&](const Case& c) { return c.name == case_name; });
  ASSERT_NE(it, all.end());
  const Case& c = *it;
  const std::vector<Array> want = run_function(c, Mode("None"));
  std::vector<Array> got;
  if (backend == "cpu") {
    got = run_function(c, Mode("FAST_RUN"));
  } else {
    if (!cuda::is_available()) GTEST_SKIP() << backend << ": " << cuda::unavailable_reason();
    std::string unsupported;
    got = run_cuda(c, unsupported);
    if (!unsupported.empty()) GTEST_SKIP() << backend << ": " << unsupported;
  }
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    expect_close(want[i], got[i], c.rtol, c.name + " on " + backend);
}

// The elementwise cases do reach the CUDA backend's fused kernels (so their
// GPU rows test something): each compiles to one Composite over the inputs.
TEST(ConformanceCases, ElementwiseCasesBecomeOneFusedCompositeOverTheInputs) {
  for (const Case& c : cases()) {
    if (c.name == "gemm_float32" || c.name == "conv2d_float64" || c.name == "grad_sigmoid_float64")
      continue;
    std::shared_ptr<Function> f;
    std::vector<Array> ins;
    std::string why;
    EXPECT_NE(fused_composite(c, f, ins, why), nullptr) << c.name << ": " << why;
  }
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const Case& c : cases()) names.push_back(c.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance,
                         ::testing::Combine(::testing::ValuesIn(case_names()),
                                            ::testing::Values("cpu", "cuda")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_on_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace theon::testing
