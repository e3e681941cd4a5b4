// The CUDA graph executor: functions compiled for device 'cuda' run their ops
// through the device kernels, keep values and shared variables on the device,
// copy only at the edges, fall back to the CPU when asked, and raise kernel
// errors naming the op. Runs on a GPU when there is one, else on the host
// emulator (cuda_device.h). Tests needing a kernel that is not in the table
// yet skip, saying which.
#include <gtest/gtest.h>
#include <theon/theon.h>

#include <random>

#include "cuda_kernel_test_util.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_device.h"
#include "theon/backend/cuda_kernels.h"

namespace theon::testing {
namespace {

// cuda:0 (the GPU, else the emulator), with config().allow_cpu_fallback off unless a test sets it.
class CudaExecutor : public CudaDeviceTest {
 protected:
  void SetUp() override {
    CudaDeviceTest::SetUp();
    fallback_ = config().allow_cpu_fallback;
    config().allow_cpu_fallback = false;
  }
  void TearDown() override {
    config().allow_cpu_fallback = fallback_;
    CudaDeviceTest::TearDown();
  }

 private:
  bool fallback_ = false;
};

Array randn(DType d, const Shape& shape, uint64_t seed, double lo = -2, double hi = 2) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = is_float(d) ? u(rng) : std::round(u(rng));
  return Array::from_vector(v, shape).astype(d);
}

// A host result of the device function against the CPU's (cuda_kernel_test_util.h compares).
void expect_close(const Array& want, const Array& got, double rtol, const std::string& what = "") {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_FALSE(got.on_device()) << what;
  expect_arrays_match(want, got, rtol, what);
}

struct Compiled {
  std::shared_ptr<Function> f;
  std::string missing;  // why it could not be compiled for the device
};

// Compiles for `device`; on cuda, an op without a kernel yet is reported in `missing`.
Compiled compile(const std::vector<Var>& ins, const std::vector<Var>& outs,
                 const std::string& device, Updates updates = {}, Mode mode = Mode("FAST_RUN"),
                 bool profile = false) {
  FunctionOptions o;
  o.device = device;
  o.updates = std::move(updates);
  o.mode = std::move(mode);
  o.profile = profile;
  o.on_unused_input = "ignore";
  try {
    return {function(std::vector<In>(ins.begin(), ins.end()), outs, o), ""};
  } catch (const DeviceUnavailable& e) {
    const std::string what = e.what();
    if (device == "cpu" || what.find("has no CUDA kernel") == std::string::npos) throw;
    return {nullptr, what};
  }
}

#define COMPILE_OR_SKIP(var, ...)                  \
  Compiled var##_c = compile(__VA_ARGS__);         \
  if (!var##_c.f) GTEST_SKIP() << var##_c.missing; \
  auto& var = *var##_c.f

TEST_F(CudaExecutor, ElementwiseGraphsMatchTheCpu) {
  Var x = matrix(DType::Float32, "x"), y = matrix(DType::Float32, "y");
  Var a = vector(DType::Int32, "a"), b = vector(DType::Int32, "b");
  std::vector<Var> outs = {exp(x) * y + 1.0, tanh(x) - y, a * b + mod(a, b), maximum(x, y)};
  COMPILE_OR_SKIP(f, {x, y, a, b}, outs, "cuda");
  EXPECT_EQ(f.device().str(), "cuda:0");
  EXPECT_TRUE(f.cpu_fallback_ops().empty());
  auto cpu = compile({x, y, a, b}, outs, "cpu").f;
  const std::vector<Array> args = {
      randn(DType::Float32, {7, 5}, 1), randn(DType::Float32, {7, 5}, 2),
      randn(DType::Int32, {40}, 3, -20, 20), randn(DType::Int32, {40}, 4, 1, 9)};
  auto want = (*cpu)(args), got = f(args);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    expect_close(want[i], got[i], 1e-5, "output " + std::to_string(i));
  // Strided arguments and zero-size ones run too.
  const std::vector<Array> odd = {randn(DType::Float32, {5, 7}, 5).transpose(),
                                  randn(DType::Float32, {7, 5}, 6), randn(DType::Int32, {0}, 7),
                                  randn(DType::Int32, {0}, 8)};
  want = (*cpu)(odd), got = f(odd);
  for (size_t i = 0; i < want.size(); ++i)
    expect_close(want[i], got[i], 1e-5, "strided output " + std::to_string(i));
}

TEST_F(CudaExecutor, TransfersHappenOnlyAtTheEdges) {
  Var x = matrix(DType::Float64, "x"), y = matrix(DType::Float64, "y");
  // Unfused (FAST_COMPILE): several device steps in a row, none copying.
  Var e = exp(x), z = e * y + 1.0;
  Var out = z * cast(shape_i(e, 0), DType::Float64);  // Shape_i reads the device array's metadata
  COMPILE_OR_SKIP(f, {x, y}, {out, x + y}, "cuda", {}, Mode("FAST_COMPILE"));
  EXPECT_GT(f.nodes().size(), 3u);
  const std::vector<Array> args = {randn(DType::Float64, {4, 3}, 1),
                                   randn(DType::Float64, {4, 3}, 2)};
  auto got = f(args);
  auto want = (*compile({x, y}, {out, x + y}, "cpu").f)(args);
  for (size_t i = 0; i < want.size(); ++i) expect_close(want[i], got[i], 1e-12);
  TransferStats t = f.transfer_stats();
  EXPECT_EQ(t.uploads, 3);    // x, y, and the length computed on the host
  EXPECT_EQ(t.downloads, 2);  // the two outputs
  EXPECT_EQ(t.upload_bytes, 2 * 12 * 8 + 8);
  f(args);
  t = f.transfer_stats();
  EXPECT_EQ(t.uploads, 6);
  EXPECT_EQ(t.downloads, 4);
  // A CPU function copies nothing.
  auto cpu = compile({x, y}, {out}, "cpu").f;
  (*cpu)(args);
  EXPECT_EQ(cpu->transfer_stats().uploads + cpu->transfer_stats().downloads, 0);
}

// An op that has, and will always have, no CUDA kernel: twice its input, on the host.
class HostOnlyTwice : public Op {
 public:
  std::string name() const override { return "HostOnlyTwice"; }
  std::vector<TensorType> infer_type(const std::vector<Var>& in) const override {
    return {in.at(0).type()};
  }
  void perform(const std::vector<Array>& in, std::vector<Array>& out) const override {
    if (in[0].on_device()) throw std::logic_error("HostOnlyTwice ran on a device array");
    Array r = in[0].astype(DType::Float64);
    double* p = r.data_as<double>();
    for (int64_t i = 0; i < r.size(); ++i) p[i] *= 2;
    out[0] = r.astype(in[0].dtype());
  }
};
Var host_only_twice(const Var& x) {
  return apply1(std::make_shared<HostOnlyTwice>(), {x});
}

TEST_F(CudaExecutor, AValueCrossesToTheCpuOnlyWhereAFallbackOpReadsIt) {
  config().allow_cpu_fallback = true;
  Var x = matrix(DType::Float64, "x");
  Var out = exp(host_only_twice(exp(x) + 3.0)) * 2.0;
  COMPILE_OR_SKIP(f, {x}, {out}, "cuda");
  ASSERT_EQ(f.cpu_fallback_ops().size(), 1u);
  const Array a = randn(DType::Float64, {3, 3}, 9);
  auto got = f({a});
  auto want = (*compile({x}, {out}, "cpu").f)({a});
  expect_close(want[0], got[0], 1e-10);
  const TransferStats t = f.transfer_stats();
  EXPECT_EQ(t.uploads, 2);    // x, the host op's result
  EXPECT_EQ(t.downloads, 2);  // exp(x) + 3 for the host op, the output
}

TEST_F(CudaExecutor, MissingKernelFailsAtCompileTimeNamingTheOp) {
  Var x = matrix(DType::Float64, "x");
  const std::string op = "HostOnlyTwice";
  try {
    FunctionOptions o;
    o.device = "cuda";
    function({x}, {host_only_twice(x) + 1.0}, o);
    FAIL() << "compiled without a kernel for " << op;
  } catch (const DeviceUnavailable& e) {
    const std::string what = e.what();
    EXPECT_EQ(what,
              "[function] " + op +
                  " has no CUDA kernel for device 'cuda:0'; set config.allow_cpu_fallback=True to "
                  "run it on the CPU");
  }
}

TEST_F(CudaExecutor, CpuFallbackRunsAndWarnsOncePerOp) {
  config().allow_cpu_fallback = true;
  Var x = matrix(DType::Float64, "x"), y = matrix(DType::Float64, "y");
  std::vector<Var> outs = {host_only_twice(x) + host_only_twice(y), det(x)};
  ::testing::internal::CaptureStderr();
  Compiled c = compile({x, y}, outs, "cuda");
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(c.f) << c.missing;
  const std::string op = "HostOnlyTwice";
  size_t n = 0;
  for (size_t p = err.find(op + " has no CUDA kernel"); p != std::string::npos;
       p = err.find(op + " has no CUDA", p + 1))
    ++n;
  EXPECT_EQ(n, 1u) << err;
  EXPECT_NE(err.find("allow_cpu_fallback"), std::string::npos) << err;
  const std::vector<Array> args = {randn(DType::Float64, {3, 3}, 1),
                                   randn(DType::Float64, {3, 3}, 2)};
  auto want = (*compile({x, y}, outs, "cpu").f)(args);
  auto got = (*c.f)(args);
  for (size_t i = 0; i < want.size(); ++i) expect_close(want[i], got[i], 1e-10);
}

TEST_F(CudaExecutor, SharedVariableUpdatesStayOnTheDevice) {
  Var x = vector(DType::Float32, "x");
  Var w = shared(Array::from_vector<float>({1, 2, 3}, {3}), "w");
  COMPILE_OR_SKIP(f, {x}, {}, "cuda", {{w, w * 2.0 + x}});
  const Array step = Array::from_vector<float>({0.5f, -1, 0}, {3});
  std::vector<float> host = {1, 2, 3};
  for (int i = 0; i < 3; ++i) {
    f({step});
    for (size_t k = 0; k < 3; ++k) host[k] = host[k] * 2 + step.data_as<float>()[k];
    EXPECT_TRUE(w->storage->host_stale());
    EXPECT_TRUE(w->storage->device_copy().on_device());
  }
  TransferStats t = f.transfer_stats();
  EXPECT_EQ(t.uploads, 4);  // w once, x on each call
  EXPECT_EQ(t.downloads, 0);
  const Array v = get_value(w);
  EXPECT_FALSE(v.on_device());
  expect_close(Array::from_vector(host, {3}), v, 0);
  EXPECT_FALSE(w->storage->host_stale());
  // Reading it on the host kept the device copy: no new upload of w.
  f({step});
  EXPECT_EQ(f.transfer_stats().uploads, 5);
  // set_value replaces the host copy and drops the device one.
  set_value(w, Array::from_vector<float>({0, 0, 1}, {3}));
  EXPECT_FALSE(w->storage->device_copy().defined());
  f({step});
  EXPECT_EQ(f.transfer_stats().uploads, 7);
  expect_close(Array::from_vector<float>({0.5f, -1, 2}, {3}), get_value(w), 0);
}

TEST_F(CudaExecutor, CpuAndDeviceFunctionsShareAVariable) {
  Var w = shared(Array::from_vector<double>({1, -2}, {2}), "w");
  COMPILE_OR_SKIP(dev, {}, {w * 3.0}, "cuda", {{w, w * 2.0}});
  auto cpu = compile({}, {w + 1.0}, "cpu", {{w, w - 1.0}}).f;
  std::vector<double> host = {1, -2};
  for (int i = 0; i < 3; ++i) {
    auto d = dev({});
    expect_close(Array::from_vector<double>({host[0] * 3, host[1] * 3}, {2}), d[0], 0);
    for (double& v : host) v *= 2;
    auto c = (*cpu)({});  // reads the device's update: downloads it first
    expect_close(Array::from_vector<double>({host[0] + 1, host[1] + 1}, {2}), c[0], 0);
    for (double& v : host) v -= 1;
  }
  expect_close(Array::from_vector(host, {2}), get_value(w), 0);
}

TEST_F(CudaExecutor, KernelErrorIsRaisedNamingTheOpAndLeavesSharedVariablesAlone) {
  Var a = vector(DType::Int32, "a"), b = vector(DType::Int32, "b");
  Var w = shared(Array::from_vector<int32_t>({5}, {1}), "w");
  COMPILE_OR_SKIP(f, {a, b}, {pow(a, b) + a}, "cuda", {{w, w + 1}});
  const Array base = Array::from_vector<int32_t>({2, 3, 4}, {3});
  auto ok = f({base, Array::from_vector<int32_t>({1, 2, 0}, {3})});
  expect_close(Array::from_vector<int32_t>({4, 12, 5}, {3}), ok[0], 0);
  expect_close(Array::from_vector<int32_t>({6}, {1}), get_value(w), 0);
  std::string cpu_error;
  try {
    (*compile({a, b}, {pow(a, b) + a}, "cpu").f)(
        {base, Array::from_vector<int32_t>({1, -2, 0}, {3})});
  } catch (const std::invalid_argument& e) {
    cpu_error = e.what();
  }
  ASSERT_FALSE(cpu_error.empty());
  try {
    f({base, Array::from_vector<int32_t>({1, -2, 0}, {3})});
    FAIL() << "a negative integer power ran";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.substr(0, what.find('\n')), cpu_error.substr(0, cpu_error.find('\n')));
    EXPECT_NE(what.find("Apply node that caused the error: "), std::string::npos) << what;
  }
  expect_close(Array::from_vector<int32_t>({6}, {1}), get_value(w), 0);
  // The next call starts clean.
  f({base, Array::from_vector<int32_t>({1, 1, 1}, {3})});
  expect_close(Array::from_vector<int32_t>({7}, {1}), get_value(w), 0);
}

TEST_F(CudaExecutor, IndexOutOfBoundsOnTheDeviceIsAnOutOfRangeAsOnTheCpu) {
  Var x = vector(DType::Float64, "x"), i = vector(DType::Int64, "i");
  COMPILE_OR_SKIP(f, {x, i}, {take(exp(x), i, 0) * 2.0}, "cuda");
  const Array v = Array::from_vector<double>({0, 1, 2}, {3});
  expect_close(Array::from_vector<double>({2, 2}, {2}),
               f({v, Array::from_vector<int64_t>({0, -3}, {2})})[0], 1e-12);
  auto cpu = compile({x, i}, {take(exp(x), i, 0) * 2.0}, "cpu").f;
  const std::vector<Array> bad = {v, Array::from_vector<int64_t>({1, 3}, {2})};
  EXPECT_THROW((*cpu)(bad), std::out_of_range);
  try {
    f(bad);
    FAIL() << "an index out of bounds ran";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("Apply node that caused the error: "), std::string::npos)
        << e.what();
  }
}

TEST_F(CudaExecutor, BadArgumentsAreCheckedAsOnTheCpu) {
  Var x = vector(DType::Float32, "x");
  COMPILE_OR_SKIP(f, {x}, {exp(x)}, "cuda");
  EXPECT_THROW(f({Array::from_vector<double>({1.0}, {1})}),
               BadArgument);  // float64 -> float32 is unsafe
  EXPECT_THROW(f({}), BadArgument);
  const Array dev = cuda::to_device(Array::from_vector<float>({1}, {1}), cuda::device_runtime(0));
  EXPECT_THROW(f({dev}), BadArgument);
  expect_close(Array::from_vector<float>({1}, {1}), f({Array::from_vector<float>({0}, {1})})[0], 0);
}

TEST_F(CudaExecutor, IfElseReadsItsConditionOnTheHost) {
  Var c = scalar(DType::Float64, "c"), x = vector(DType::Float64, "x");
  Var out = ifelse(gt(sum(x), c), exp(x), x * 2.0);
  config().allow_cpu_fallback = true;  // the reduction may not have a kernel yet
  COMPILE_OR_SKIP(f, {c, x}, {out}, "cuda");
  auto cpu = compile({c, x}, {out}, "cpu").f;
  const Array v = randn(DType::Float64, {6}, 3);
  for (double t : {-100.0, 100.0}) {
    const std::vector<Array> args = {Array::scalar(DType::Float64, t), v};
    expect_close((*cpu)(args)[0], f(args)[0], 1e-12);
  }
}

TEST_F(CudaExecutor, ProfilingNamesTheDeviceKernels) {
  Var x = vector(DType::Float32, "x");
  COMPILE_OR_SKIP(f, {x}, {exp(x) * 2.0}, "cuda", {}, Mode("FAST_RUN"), true);
  f({randn(DType::Float32, {10}, 1)});
  auto p = f.profile();
  ASSERT_FALSE(p.empty());
  for (const auto& e : p) {
    EXPECT_EQ(e.calls, 1) << e.op;
    EXPECT_FALSE(e.kernel.empty()) << e.op;
  }
}

TEST_F(CudaExecutor, NanGuardModeChecksTheDeviceValues) {
  Var x = vector(DType::Float64, "x");
  COMPILE_OR_SKIP(f, {x}, {log(x) * 2.0}, "cuda", {}, Mode("NanGuardMode"));
  expect_close(Array::from_vector<double>({0, 0}, {2}),
               f({Array::from_vector<double>({1, 1}, {2})})[0], 0);
  EXPECT_THROW(f({Array::from_vector<double>({-1, 2}, {2})}), NanGuardError);
}

// Dense + relu + softmax cross-entropy + SGD: the same losses on the device
// (ops without kernels on the CPU) as on the CPU.
TEST_F(CudaExecutor, SmallTrainingLoopGivesTheCpuLosses) {
  config().allow_cpu_fallback = true;
  auto losses = [](const std::string& device) {
    Var x = matrix(DType::Float32, "x"), y = matrix(DType::Float32, "y");
    Var w1 = shared(randn(DType::Float32, {6, 8}, 11, -0.5, 0.5), "w1");
    Var b1 = shared(Array::zeros(DType::Float32, {8}), "b1");
    Var w2 = shared(randn(DType::Float32, {8, 3}, 12, -0.5, 0.5), "w2");
    Var b2 = shared(Array::zeros(DType::Float32, {3}), "b2");
    Var h = relu(dot(x, w1) + b1);
    Var p = softmax(dot(h, w2) + b2);
    Var loss = mean(categorical_crossentropy(p, y));
    Updates up;
    for (const Var& v : {w1, b1, w2, b2}) up.push_back({v, v - grad(loss, v) * 0.5});
    auto f = compile({x, y}, {loss}, device, up).f;
    const Array xs = randn(DType::Float32, {16, 6}, 13);
    std::vector<float> onehot(16 * 3, 0.0f);
    for (size_t i = 0; i < 16; ++i) onehot[i * 3 + i % 3] = 1;
    const Array ys = Array::from_vector(onehot, {16, 3});
    std::vector<double> r;
    for (int i = 0; i < 6; ++i) r.push_back((*f)({xs, ys})[0].item_double());
    r.push_back(get_value(w2).astype(DType::Float64).data_as<double>()[0]);
    return r;
  };
  const std::vector<double> cpu = losses("cpu"), dev = losses("cuda");
  ASSERT_EQ(cpu.size(), dev.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(cpu[i], dev[i], 1e-4 * (1 + std::abs(cpu[i]))) << i;
  EXPECT_LT(cpu[5], cpu[0]);
}

}  // namespace
}  // namespace theon::testing
