// Backend conformance: one list of cases (fused elementwise graphs over
// several dtypes, broadcasting and strided inputs, a gradient, gemm, conv2d)
// run on every backend against the CPU reference, the graph evaluated
// unoptimized (mode None). Rows are Case x Backend; the CUDA rows compile the
// case with function(device='cuda') and run it through the device kernels on
// cuda:0 — a GPU when there is one, else the host emulator (cuda_device.h).
// A case with an op that has no CUDA kernel yet is listed in
// kCudaExpectedMissing (and skipped); a test checks that the list is exact.
#include <gtest/gtest.h>
#include <theon/theon.h>

#include <functional>
#include <map>
#include <set>
#include <random>

#include "theon/backend/cuda.h"
#include "theon/backend/cuda_device.h"
#include "cuda_kernel_test_util.h"

namespace theon::testing {
namespace {

struct Case {
  std::string name;
  std::vector<Var> inputs;
  std::vector<Var> outputs;
  std::vector<Array> values;
  double rtol = 1e-12;
  bool elementwise = false;  // the CPU fuses the graph into one Composite over the inputs
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
  for (Case& c : cs) c.elementwise = true;  // the cases above; those below are not
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
  {
    Var x = matrix(DType::Float32, "x");
    cs.push_back({"reductions_float32",
                  {x},
                  {sum(x, std::vector<int>{0}), max(x, std::vector<int>{1}), argmax(x, 1), logsumexp(x)},
                  {randn(DType::Float32, {9, 14}, 21)},
                  1e-5});
  }
  {
    Var x = matrix(DType::Float64, "x");
    cs.push_back({"softmax_log_softmax_float64",
                  {x},
                  {softmax(x), log_softmax(x * 2.0)},
                  {randn(DType::Float64, {5, 8}, 22)},
                  1e-12});
  }
  {
    Var x = matrix(DType::Float64, "x"), i = vector(DType::Int64, "i");
    cs.push_back({"take_join_cumsum_float64",
                  {x, i},
                  {concatenate({take(x, i, 0), x}, 0), cumsum(x, 1)},
                  {randn(DType::Float64, {4, 3}, 23), Array::from_vector<int64_t>({3, 0, -1, 2, 2}, {5})}});
  }
  {
    Var x = matrix(DType::Float32, "x");
    cs.push_back({"sort_argsort_float32",
                  {x},
                  {sort(x, 1), argsort(x, 0)},
                  {randn(DType::Float32, {6, 11}, 24)},
                  0});
  }
  {
    Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x"),
        w = tensor(DType::Float64, {-1, -1, -1, -1}, "w");
    ConvParams p;
    Var y = pool_2d(relu(conv2d(x, w, p)), PoolParams{});
    Var cost = sum(y * y);
    cs.push_back({"conv_pool_grads_float64",
                  {x, w},
                  {y, grad(cost, x), grad(cost, w)},
                  {randn(DType::Float64, {2, 2, 7, 6}, 25), randn(DType::Float64, {3, 2, 3, 3}, 26)},
                  1e-10});
  }
  {
    Var a = matrix(DType::Float64, "a");
    cs.push_back({"matrix_inverse_float64",
                  {a},
                  {matrix_inverse(a + constant(4.0, DType::Float64))},
                  {randn(DType::Float64, {4, 4}, 27, -1, 1)},
                  1e-10});
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

// Cases whose graph has an op without a CUDA kernel yet, with that op (as
// the compile error names it). Remove a case when its kernels land.
const std::map<std::string, std::string> kCudaExpectedMissing = {
};

// Runs cuda:0 on the emulator where no GPU can be used, for one scope.
struct CudaRowDevice {
  bool was = cuda::emulation();
  CudaRowDevice() {
    if (!cuda::is_available()) cuda::set_emulation(true);
  }
  ~CudaRowDevice() { cuda::set_emulation(was); }
};

// Compiles a case for cuda:0; "" or the compile error naming a missing kernel.
std::string compile_cuda(const Case& c, std::shared_ptr<Function>& f) {
  FunctionOptions o;
  o.device = "cuda";
  try {
    f = function(std::vector<In>(c.inputs.begin(), c.inputs.end()), c.outputs, o);
  } catch (const DeviceUnavailable& e) {
    const std::string what = e.what();
    if (what.find("has no CUDA kernel") == std::string::npos) throw;
    return what;
  }
  return "";
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
    if (auto it = kCudaExpectedMissing.find(c.name); it != kCudaExpectedMissing.end())
      GTEST_SKIP() << backend << ": no CUDA kernel yet for " << it->second;
    CudaRowDevice device;
    std::shared_ptr<Function> f;
    const std::string missing = compile_cuda(c, f);
    ASSERT_EQ(missing, "") << "add the case to kCudaExpectedMissing if this is expected";
    got = (*f)(c.values);
  }
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    expect_arrays_match(want[i], got[i], c.rtol, c.name + " on " + backend);
}

// The elementwise cases do reach the CUDA backend's fused kernels (so their
// GPU rows test something): each compiles to one Composite over the inputs.
TEST(ConformanceCases, ElementwiseCasesBecomeOneFusedCompositeOverTheInputs) {
  for (const Case& c : cases()) {
    if (!c.elementwise) continue;
    std::shared_ptr<Function> f;
    std::vector<Array> ins;
    std::string why;
    EXPECT_NE(fused_composite(c, f, ins, why), nullptr) << c.name << ": " << why;
  }
}

// kCudaExpectedMissing lists exactly the cases that cannot compile for CUDA.
TEST(ConformanceCases, CudaExpectedMissingListIsExact) {
  CudaRowDevice device;
  std::set<std::string> names;
  for (const Case& c : cases()) {
    names.insert(c.name);
    std::shared_ptr<Function> f;
    const std::string missing = compile_cuda(c, f);
    auto it = kCudaExpectedMissing.find(c.name);
    if (it == kCudaExpectedMissing.end()) {
      EXPECT_EQ(missing, "") << c.name << " is not in kCudaExpectedMissing";
    } else {
      EXPECT_NE(missing, "") << c.name << " compiles for CUDA now: remove it from kCudaExpectedMissing";
      EXPECT_NE(missing.find(it->second), std::string::npos) << c.name << ": " << missing;
    }
  }
  for (const auto& [name, op] : kCudaExpectedMissing) EXPECT_TRUE(names.count(name)) << "no case " << name;
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
