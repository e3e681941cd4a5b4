// The DeviceRuntime of cuda:0 (cuda_device.h) — on a GPU when there is one,
// else on the host emulator: memory tagging, transfers of every dtype, the
// strided copy-and-cast kernel behind device_contiguous / device_assign
// against Array::assign on the host, a hand-written kernel with a block
// reduction over dynamic shared memory and atomics, the error flag, compile
// errors, the emulator's disk cache, gemm and convolution against plain loops.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include "../../src/backend/cuda/common/runtimes.h"
#include "../../src/backend/cuda/emulator/host_compiler.h"
#include "cuda_kernel_test_util.h"
#include "cuda_test_programs.h"
#include "theon/backend/device.h"
#include "theon/config.h"

namespace theon::testing {
namespace {

using cuda::device_assign;
using cuda::device_contiguous;
using cuda::to_device;
using cuda::to_host;

// Values of dtype d: edge cases (NaN, infinities, signed zeros, extremes) then random ones.
Array values(DType d, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t n = shape_size(shape);
  std::vector<double> v(static_cast<size_t>(n));
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> special = {0.0,  -0.0,  1,     -1,   0.5,          -2.5,
                                       1e30, -1e30, inf,   -inf, std::nan(""), 300,
                                       -129, 70000, 65504, 3e9,  -3e9};
  std::uniform_real_distribution<double> u(-100, 100);
  for (int64_t i = 0; i < n; ++i) {
    double x = i < int64_t(special.size()) ? special[size_t(i)] : u(rng);
    if (!is_float(d)) x = std::isfinite(x) && std::abs(x) < 1e18 ? std::round(x) : 7;
    if (d == DType::Bool) x = double(rng() & 1);
    v[size_t(i)] = x;
  }
  if (is_float(d)) return Array::from_vector(v, shape).astype(d);
  std::vector<int64_t> iv(v.begin(), v.end());
  return Array::from_vector(iv, shape).astype(d);
}

class CudaRuntime : public CudaDeviceTest {};

TEST_F(CudaRuntime, DeviceZeroIsTheEmulatorWhenEmulationIsOn) {
  if (!cuda::emulation()) GTEST_SKIP() << "running on a GPU";
  EXPECT_TRUE(rt().emulated());
  EXPECT_EQ(rt().index(), 0);
  EXPECT_EQ(rt().sm_count(), 1);
  EXPECT_THROW(cuda::device_runtime(1), DeviceUnavailable);
  try {
    cuda::device_runtime(1);
  } catch (const DeviceUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("only device cuda:0"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(require_device(parse_device("cuda:0"), "test"));
  EXPECT_THROW(require_device(parse_device("cuda:1"), "test"), DeviceUnavailable);
}

TEST_F(CudaRuntime, AllocationsAreTaggedAndAligned) {
  for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(4097)}) {
    auto b = rt().allocate(n);
    EXPECT_EQ(b->device, 0);
    EXPECT_EQ(b->nbytes, n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data) % 256, 0u);
  }
  Array a = cuda::device_empty(rt(), DType::Float32, {3, 4});
  EXPECT_TRUE(a.on_device());
  EXPECT_TRUE(a.is_c_contiguous());
  EXPECT_THROW(a.item_double(0), std::logic_error);
  EXPECT_THROW(a.copy(), std::logic_error);
  EXPECT_THROW(cuda::device_empty(rt(), DType::Float32, {-1}), std::invalid_argument);
  EXPECT_THROW(to_host(Array::zeros(DType::Float32, {2})), std::invalid_argument);
}

TEST_F(CudaRuntime, UploadDownloadRoundTripsEveryDtype) {
  for (DType d : all_dtypes()) {
    for (const Shape& s : {Shape{}, Shape{0}, Shape{5, 7}, Shape{2, 0, 3}}) {
      const Array h = values(d, s, 3);
      const Array dev = to_device(h, rt());
      EXPECT_TRUE(dev.on_device());
      expect_arrays_match(h, to_host(dev), 0, std::string(dtype_name(d)) + " " + shape_str(s));
    }
    // A strided host array arrives C-contiguous.
    const Array t = values(d, {4, 6}, 5).transpose();
    expect_arrays_match(t, to_host(to_device(t, rt())), 0, std::string(dtype_name(d)));
  }
  // Raw copies and zero.
  std::vector<int32_t> src = {1, 2, 3, 4}, back(4, -1);
  auto b = rt().allocate(16), c = rt().allocate(16);
  rt().upload(b->data, src.data(), 16);
  rt().copy(c->data, b->data, 16);
  rt().download(back.data(), c->data, 16);
  EXPECT_EQ(back, src);
  rt().zero(c->data, 8);
  rt().download(back.data(), c->data, 16);
  EXPECT_EQ(back, (std::vector<int32_t>{0, 0, 3, 4}));
}

// device_contiguous and device_assign against Array::assign on the host, same
// dtype and casts, over transposed, broadcast, sliced and offset views.
TEST_F(CudaRuntime, StridedCopiesAndCastsMatchTheHost) {
  const std::vector<std::pair<DType, DType>> pairs = {
      {DType::Float32, DType::Float32},  {DType::Float64, DType::Float64},
      {DType::Bool, DType::Bool},        {DType::Int8, DType::Int8},
      {DType::Float16, DType::Float16},  {DType::BFloat16, DType::BFloat16},
      {DType::UInt64, DType::UInt64},    {DType::Float16, DType::Float64},
      {DType::Int32, DType::Float32},    {DType::Float32, DType::Bool},
      {DType::Bool, DType::Int64},       {DType::Float64, DType::BFloat16},
      {DType::BFloat16, DType::Float16}, {DType::Int8, DType::UInt8},
      {DType::UInt64, DType::Float64},   {DType::Int16, DType::Float16}};
  for (auto [to, from] : pairs) {
    const std::string what = std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to));
    const Array h = values(from, {3, 4, 5}, 11);
    // Views of the same values on the host and on the device.
    struct View {
      const char* name;
      std::function<Array(const Array&)> fn;
    };
    const std::vector<View> views = {
        {"transposed", [](const Array& a) { return a.transpose(); }},
        {"permuted",
         [](const Array& a) {
           return a.transpose({1, 0, 2});
         }},
        {"sliced", [](const Array& a) { return a.slice(2, 4, -1, -2).slice(0, 1, 3, 1); }},
        {"broadcast",
         [](const Array& a) {
           return a.index(1, 2).expand_dims(1).broadcast_to({3, 6, 5});
         }},
        {"index", [](const Array& a) { return a.index(0, 2); }},
        {"contiguous", [](const Array& a) { return a; }}};
    for (const View& v : views) {
      const Array hv = v.fn(h);
      const Array dv = device_view(h, v.fn);
      Array want = Array::empty(to, hv.shape());
      want.assign(hv);
      expect_arrays_match(want, to_host(device_contiguous(dv, to)), 0,
                          what + " device_contiguous " + v.name);
      // Into a destination stored transposed.
      const Shape rev(hv.shape().rbegin(), hv.shape().rend());
      Array dst_h = values(to, rev, 2).transpose();
      Array dst_d = device_transposed(dst_h);
      dst_h.assign(hv);
      device_assign(dst_d, dv);
      expect_arrays_match(dst_h, to_host(dst_d), 0, what + " device_assign " + v.name);
    }
    // Offset sources, a host source, and an overlapping self-assignment.
    Array off = device_offset(h);
    expect_arrays_match(h.astype(to), to_host(device_contiguous(off, to)), 0, what + " offset");
    if (to == from) {
      Array d = to_device(h, rt());
      device_assign(d.slice(2, 1, 5, 1), d.slice(2, 0, 4, 1));  // a shift within one buffer
      Array e = h.copy();
      e.slice(2, 1, 5, 1).assign(h.slice(2, 0, 4, 1));
      expect_arrays_match(e, to_host(d), 0, what + " overlapping");
      Array d2 = cuda::device_empty(rt(), to, {3, 4, 5});
      device_assign(d2, h);  // from the host
      expect_arrays_match(h, to_host(d2), 0, what + " from host");
    }
  }
}

TEST_F(CudaRuntime, TestHelpersMakeTheLayoutsTheySay) {
  const Array h = values(DType::Int32, {3, 5}, 4);
  const Array t = device_transposed(h), s = device_strided(h), o = device_offset(h);
  EXPECT_FALSE(t.is_c_contiguous());
  EXPECT_EQ(s.strides()[1], 8);
  EXPECT_EQ(o.offset(), 12);
  for (const Array& a : {t, s, o}) expect_arrays_match(h, to_host(a), 0, "helper");
  const Array b = device_broadcast(Array::from_vector<int32_t>({1, 2, 3}), {2, 3});
  EXPECT_EQ(b.strides()[0], 0);
  expect_arrays_match(Array::from_vector<int32_t>({1, 2, 3, 1, 2, 3}, {2, 3}), to_host(b), 0,
                      "broadcast");
}

// A sum written for any blockDim: grid-stride partial sums, a shared-memory
// tree reduction, one atomicAdd per block; plus a float atomicAdd and the
// error flag for negative elements.
const std::string kSumSource = std::string(cuda::fused_prelude()) + R"(
struct Args { long long w[5]; };
extern "C" __global__ void block_sum(const Args a) {
  const long long* x = (const long long*)a.w[0];
  const long long n = a.w[1];
  unsigned long long* total = (unsigned long long*)a.w[2];
  float* ftotal = (float*)a.w[3];
  int* err = (int*)a.w[4];
  THEON_DYNAMIC_SHARED(long long, part);
  long long s = 0;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)blockDim.x * gridDim.x) {
    if (x[i] < 0) atomicCAS(err, 0, 7);
    s += x[i];
  }
  part[threadIdx.x] = s;
  __syncthreads();
  for (unsigned half = (blockDim.x + 1) / 2, len = blockDim.x; len > 1; len = half, half = (half + 1) / 2) {
    if (threadIdx.x < len - half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    atomicAdd(total, (unsigned long long)part[0]);
    atomicAdd(ftotal, 1.0f);
  }
}
)";

TEST_F(CudaRuntime, LaunchesABlockReductionWithDynamicSharedMemory) {
  cuda::KernelProgram p{kSumSource, {"block_sum"}, 5};
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(1000), int64_t(4099)}) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i * 3 + 1;
    const Array x = to_device(Array::from_vector(v, {n}), rt());
    auto out = rt().allocate(16);
    rt().zero(out->data, 16);
    cuda::LaunchShape shape{7, 96, 96 * sizeof(long long)};
    rt().launch(p, "block_sum", shape,
                {int64_t(reinterpret_cast<intptr_t>(x.data())), n,
                 int64_t(reinterpret_cast<intptr_t>(out->data)),
                 int64_t(reinterpret_cast<intptr_t>(static_cast<char*>(out->data) + 8)),
                 int64_t(reinterpret_cast<intptr_t>(rt().error_flag()))});
    int64_t got[2] = {0, 0};
    rt().download(got, out->data, 16);
    EXPECT_EQ(got[0], n * (3 * (n - 1)) / 2 + n) << n;
    float blocks;
    std::memcpy(&blocks, &got[1], 4);
    EXPECT_EQ(blocks, 7.0f);
    EXPECT_EQ(rt().take_error(), 0);
  }
  // The error flag: set by the kernel, read and cleared by take_error.
  const Array x = to_device(Array::from_vector<int64_t>({1, -2, 3}), rt());
  auto out = rt().allocate(16);
  rt().launch(p, "block_sum", {2, 32, 32 * 8},
              {int64_t(reinterpret_cast<intptr_t>(x.data())), 3,
               int64_t(reinterpret_cast<intptr_t>(out->data)),
               int64_t(reinterpret_cast<intptr_t>(static_cast<char*>(out->data) + 8)),
               int64_t(reinterpret_cast<intptr_t>(rt().error_flag()))});
  EXPECT_EQ(rt().take_error(), 7);
  EXPECT_EQ(rt().take_error(), 0);
  // Bad launches are refused naming the kernel.
  EXPECT_THROW(rt().launch(p, "nope", {1, 1, 0}, {}), std::invalid_argument);
  EXPECT_THROW(rt().launch(p, "block_sum", {1, 1, 0}, {1, 2, 3, 4, 5, 6}), std::invalid_argument);
  EXPECT_THROW(rt().launch(p, "block_sum", {1, 0, 0}, {}), std::invalid_argument);
}

// Static __shared__ memory, __syncthreads and the atomics kernels use.
const std::string kAtomicsSource = std::string(cuda::fused_prelude()) + R"(
struct Args { long long w[2]; };
extern "C" __global__ void atomics(const Args a) {
  const int* x = (const int*)a.w[0];
  long long* out = (long long*)a.w[1];
  __shared__ int seen[1];
  if (threadIdx.x == 0) seen[0] = 0;
  __syncthreads();
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < 100; i += (long long)blockDim.x * gridDim.x) {
    atomicMax((int*)&out[0], x[i]);
    atomicMin((long long*)&out[1], (long long)x[i]);
    atomicMax((unsigned long long*)&out[2], (unsigned long long)(x[i] + 1000));
    atomicAdd((double*)&out[3], 0.5);
    atomicAdd(&seen[0], 1);
  }
  __syncthreads();
  if (threadIdx.x == 0) atomicAdd((unsigned*)&out[4], (unsigned)seen[0]);
}
)";

TEST_F(CudaRuntime, StaticSharedMemoryAndAtomics) {
  cuda::KernelProgram p{kAtomicsSource, {"atomics"}, 2};
  std::vector<int32_t> v(100);
  for (int i = 0; i < 100; ++i) v[size_t(i)] = (i * 37) % 101 - 50;
  const Array x = to_device(Array::from_vector(v), rt());
  std::vector<int64_t> init = {std::numeric_limits<int32_t>::min(), 1000, 0, 0, 0};
  double zero = 0;
  std::memcpy(&init[3], &zero, 8);
  const Array out = to_device(Array::from_vector(init), rt());
  rt().launch(p, "atomics", {3, 64, 0},
              {int64_t(reinterpret_cast<intptr_t>(x.data())),
               int64_t(reinterpret_cast<intptr_t>(out.data()))});
  const std::vector<int64_t> got = to_host(out).to_int_vector();
  EXPECT_EQ(int32_t(got[0] & 0xffffffff), 50);
  EXPECT_EQ(got[1], -50);
  EXPECT_EQ(got[2], 1050);
  double sum;
  std::memcpy(&sum, &got[3], 8);
  EXPECT_EQ(sum, 50.0);
  EXPECT_EQ(got[4], 100);
}

TEST_F(CudaRuntime, ACompileErrorNamesTheKernelAndQuotesTheCompiler) {
  cuda::KernelProgram p{
      "struct Args { long long w[1]; };\n"
      "extern \"C\" __global__ void broken_kernel(const Args a) { undeclared_thing(a); }\n",
      {"broken_kernel"},
      1};
  try {
    rt().launch(p, "broken_kernel", {1, 1, 0}, {0});
    ADD_FAILURE() << "compiled";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("broken_kernel"), std::string::npos) << m;
    EXPECT_NE(m.find("undeclared_thing"), std::string::npos) << m;
  }
}

TEST_F(CudaRuntime, EmulatorReusesItsDiskCacheAfterTheMemoryCacheIsCleared) {
  if (!rt().emulated()) GTEST_SKIP() << "emulator only";
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() /
      ("theon_emu_cache_" + std::to_string(::getpid()) + "_" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  const char* old = std::getenv("THEON_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("THEON_CACHE_DIR", dir.c_str(), 1);
  cuda::KernelProgram p{
      "struct Args { long long w[1]; };\n"
      "extern \"C\" __global__ void set_one(const Args a) { *(int*)a.w[0] = 1; }\n",
      {"set_one"},
      1};
  auto out = rt().allocate(4);
  const auto s0 = cuda::detail::emulator_cache_stats();
  rt().launch(p, "set_one", {1, 1, 0}, {int64_t(reinterpret_cast<intptr_t>(out->data))});
  const auto s1 = cuda::detail::emulator_cache_stats();
  EXPECT_EQ(s1.compiles, s0.compiles + 1);
  EXPECT_TRUE(fs::exists(dir / "cuda-emulator"));
  rt().launch(p, "set_one", {1, 1, 0}, {int64_t(reinterpret_cast<intptr_t>(out->data))});
  EXPECT_EQ(cuda::detail::emulator_cache_stats().compiles, s1.compiles);  // in memory
  cuda::detail::clear_emulator_memory_cache();
  rt().launch(p, "set_one", {1, 1, 0}, {int64_t(reinterpret_cast<intptr_t>(out->data))});
  const auto s2 = cuda::detail::emulator_cache_stats();
  EXPECT_EQ(s2.compiles, s1.compiles);
  EXPECT_EQ(s2.disk_hits, s1.disk_hits + 1);
  int v = 0;
  rt().download(&v, out->data, 4);
  EXPECT_EQ(v, 1);
  if (old)
    ::setenv("THEON_CACHE_DIR", saved.c_str(), 1);
  else
    ::unsetenv("THEON_CACHE_DIR");
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// ---- gemm and convolution against plain loops in double ----------------------

TEST_F(CudaRuntime, GemmMatchesPlainLoops) {
  struct Case {
    bool ta, tb;
    int64_t m, n, k;
    double alpha, beta;
  };
  for (DType d : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16}) {
    for (Case c : {Case{false, false, 5, 7, 3, 1.0, 0.0}, Case{true, false, 4, 2, 6, 0.5, 1.0},
                   Case{false, true, 3, 8, 5, 2.0, -1.0}, Case{true, true, 6, 6, 1, 1.0, 0.5},
                   Case{false, false, 3, 4, 0, 1.0, 2.0}}) {
      // Operands with leading dimensions wider than their rows.
      const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
      const int64_t br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
      const Array a = values(DType::Float64, {ar, ac + 2}, 1).slice(1, 0, ac, 1);
      const Array b = values(DType::Float64, {br, bc + 1}, 2).slice(1, 0, bc, 1);
      const Array cm = values(DType::Float64, {c.m, c.n + 3}, 3).slice(1, 0, c.n, 1);
      auto clean = [&](const Array& x) {  // small finite values, exactly representable in d
        std::vector<double> v = x.copy().to_double_vector();
        for (double& e : v) e = std::isfinite(e) && std::abs(e) < 50 ? std::round(e) / 4 : 1.5;
        return Array::from_vector(v, x.shape()).astype(d).astype(DType::Float64);
      };
      const Array a64 = clean(a), b64 = clean(b), c64 = clean(cm);
      auto padded = [&](const Array& x, int64_t pad) {
        Array big = Array::zeros(d, {x.shape()[0], x.shape()[1] + pad});
        big.slice(1, 0, x.shape()[1], 1).assign(x);
        return to_device(big, rt());
      };
      const Array da = padded(a64, 2), db = padded(b64, 1), dc = padded(c64, 3);
      rt().gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, da.data(), ac + 2, db.data(), bc + 1, c.beta,
                dc.data(), c.n + 3, d);
      std::vector<double> want(size_t(c.m * c.n));
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          double s = 0;
          for (int64_t l = 0; l < c.k; ++l)
            s += (c.ta ? a64.item_double(l * ac + i) : a64.item_double(i * ac + l)) *
                 (c.tb ? b64.item_double(j * bc + l) : b64.item_double(l * bc + j));
          want[size_t(i * c.n + j)] = c.alpha * s + c.beta * c64.item_double(i * c.n + j);
        }
      const Array got = to_host(dc.slice(1, 0, c.n, 1)).astype(DType::Float64);
      const double rtol = d == DType::Float64 ? 1e-12 : d == DType::Float32 ? 1e-5 : 2e-2;
      expect_arrays_match(Array::from_vector(want, {c.m, c.n}), got, rtol,
                          std::string("gemm ") + std::string(dtype_name(d)));
    }
  }
}

// Batches of products with gaps between the matrices, a broadcast operand
// (stride 0), transposes, one product and none, against plain loops and
// against one gemm per product.
TEST_F(CudaRuntime, GemmStridedBatchedMatchesPlainLoopsAndGemm) {
  struct Case {
    bool ta, tb;
    int64_t m, n, k, batch;
    bool shared_a, shared_b;  // stride 0: one matrix for every product
    double alpha, beta;
  };
  const std::vector<Case> cases{
      {false, false, 3, 4, 5, 3, false, false, 1.0, 0.0},
      {true, false, 2, 5, 3, 4, true, false, 0.5, 1.0},
      {false, true, 4, 3, 2, 2, false, true, 2.0, -1.0},
      {true, true, 3, 3, 4, 1, false, false, 1.0, 0.5},
      {false, false, 2, 3, 4, 0, false, false, 1.0, 0.0},
      {false, true, 3, 2, 0, 2, true, true, 1.0, 2.0},
  };
  for (DType d : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16}) {
    uint64_t seed = 10;
    for (const Case& c : cases) {
      const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
      const int64_t br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
      const int64_t lda = ac + 1, ldb = bc + 2, ldc = c.n + 2;
      const int64_t sa = c.shared_a ? 0 : ar * lda + 3, sb = c.shared_b ? 0 : br * ldb + 1,
                    sc = c.m * ldc + 2;
      // Flat buffers of small quarter values (exact in every dtype), at least one element.
      auto flat = [&](int64_t stride, int64_t rows, int64_t ld, bool shared) {
        const int64_t n =
            std::max<int64_t>((shared ? 1 : c.batch) * std::max(stride, rows * ld), 1);
        std::vector<double> v = values(DType::Float64, {n}, seed++).to_double_vector();
        for (double& e : v) e = std::isfinite(e) && std::abs(e) < 50 ? std::round(e) / 4 : 1.5;
        return Array::from_vector(v, {n}).astype(d);
      };
      const Array a = flat(sa, ar, lda, c.shared_a), b = flat(sb, br, ldb, c.shared_b),
                  c0 = flat(sc, c.m, ldc, false);
      const std::vector<double> av = a.to_double_vector(), bv = b.to_double_vector();
      std::vector<double> want = c0.to_double_vector();
      for (int64_t p = 0; p < c.batch; ++p)
        for (int64_t i = 0; i < c.m; ++i)
          for (int64_t j = 0; j < c.n; ++j) {
            double s = 0;
            for (int64_t l = 0; l < c.k; ++l)
              s += av[size_t(p * sa + (c.ta ? l * lda + i : i * lda + l))] *
                   bv[size_t(p * sb + (c.tb ? j * ldb + l : l * ldb + j))];
            double& out = want[size_t(p * sc + i * ldc + j)];
            out = c.alpha * s + c.beta * out;
          }
      const Array da = to_device(a, rt()), db = to_device(b, rt()), dc = to_device(c0, rt()),
                  dl = to_device(c0, rt());
      rt().gemm_strided_batched(c.ta, c.tb, c.m, c.n, c.k, c.alpha, da.data(), lda, sa, db.data(),
                                ldb, sb, c.beta, dc.data(), ldc, sc, c.batch, d);
      const int64_t isz = int64_t(itemsize(d));
      for (int64_t p = 0; p < c.batch; ++p)
        rt().gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, static_cast<char*>(da.data()) + p * sa * isz,
                  lda, static_cast<char*>(db.data()) + p * sb * isz, ldb, c.beta,
                  static_cast<char*>(dl.data()) + p * sc * isz, ldc, d);
      const double rtol = d == DType::Float64 ? 1e-12 : d == DType::Float32 ? 1e-5 : 2e-2;
      const std::string what = std::string(dtype_name(d)) + " batch " + std::to_string(c.batch) +
                               (c.ta ? " ta" : "") + (c.tb ? " tb" : "");
      const Array got = to_host(dc).astype(DType::Float64);
      expect_arrays_match(Array::from_vector(want, c0.shape()), got, rtol,
                          "gemm_strided_batched " + what);
      expect_arrays_match(to_host(dl).astype(DType::Float64), got, rtol,
                          "gemm_strided_batched vs gemm " + what);
    }
  }
}

struct ConvCase {
  cuda::Conv2dShape s;
};

// y[n, k, i, j] = sum over c in k's group, r, s of x[n, c, i*sh - ph + r*dh, j*sw - pw + s*dw] w[k,
// c', r, s] (w[k, c', R-1-r, S-1-s] when s.flip: a true convolution).
template <class F>
void for_each_tap(const cuda::Conv2dShape& s, F f) {
  const int64_t cg = s.c / s.groups, kg = s.k / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t i = 0; i < s.out_h(); ++i)
        for (int64_t j = 0; j < s.out_w(); ++j)
          for (int64_t cc = 0; cc < cg; ++cc)
            for (int64_t r = 0; r < s.r; ++r)
              for (int64_t q = 0; q < s.s; ++q) {
                const int64_t y = i * s.stride_h - s.pad_h + r * s.dilation_h;
                const int64_t x = j * s.stride_w - s.pad_w + q * s.dilation_w;
                if (y < 0 || y >= s.h || x < 0 || x >= s.w) continue;
                const int64_t c = (k / kg) * cg + cc;
                const int64_t fr = s.flip ? s.r - 1 - r : r, fq = s.flip ? s.s - 1 - q : q;
                f(((n * s.c + c) * s.h + y) * s.w + x, ((k * cg + cc) * s.r + fr) * s.s + fq,
                  ((n * s.k + k) * s.out_h() + i) * s.out_w() + j);
              }
}

TEST_F(CudaRuntime, ConvolutionAndItsGradientsMatchPlainLoops) {
  std::vector<cuda::Conv2dShape> shapes;
  cuda::Conv2dShape a;
  a.n = 2, a.c = 3, a.h = 7, a.w = 6, a.k = 4, a.r = 3, a.s = 2;
  shapes.push_back(a);
  cuda::Conv2dShape b = a;
  b.c = 4, b.k = 6, b.groups = 2, b.pad_h = 1, b.pad_w = 2, b.stride_h = 2, b.dilation_w = 2;
  shapes.push_back(b);
  for (cuda::Conv2dShape f : {a, b}) {  // true convolutions (CUDNN_CONVOLUTION)
    f.flip = true;
    shapes.push_back(f);
  }
  for (DType d : {DType::Float32, DType::Float64, DType::Float16}) {
    for (const cuda::Conv2dShape& s : shapes) {
      auto make = [&](const Shape& sh, uint64_t seed) {
        std::vector<double> v = values(DType::Float64, {shape_size(sh)}, seed).to_double_vector();
        for (double& e : v) e = std::isfinite(e) && std::abs(e) < 50 ? std::round(e) / 8 : 0.25;
        return Array::from_vector(v, sh).astype(d);
      };
      const Array x = make({s.n, s.c, s.h, s.w}, 1), w = make({s.k, s.c / s.groups, s.r, s.s}, 2),
                  dy = make({s.n, s.k, s.out_h(), s.out_w()}, 3);
      std::vector<double> y(size_t(dy.size())), dx(size_t(x.size())), dw(size_t(w.size()));
      const std::vector<double> xv = x.to_double_vector(), wv = w.to_double_vector(),
                                dyv = dy.to_double_vector();
      for_each_tap(s, [&](int64_t xi, int64_t wi, int64_t yi) {
        y[size_t(yi)] += xv[size_t(xi)] * wv[size_t(wi)];
        dx[size_t(xi)] += dyv[size_t(yi)] * wv[size_t(wi)];
        dw[size_t(wi)] += dyv[size_t(yi)] * xv[size_t(xi)];
      });
      const Array dxd = to_device(x, rt()), dwd = to_device(w, rt()), dyd = to_device(dy, rt());
      Array out = cuda::device_empty(rt(), d, dy.shape()),
            gx = cuda::device_empty(rt(), d, x.shape()),
            gw = cuda::device_empty(rt(), d, w.shape());
      rt().conv2d_forward(s, d, dxd.data(), dwd.data(), out.data());
      rt().conv2d_backward_data(s, d, dyd.data(), dwd.data(), gx.data());
      rt().conv2d_backward_filter(s, d, dxd.data(), dyd.data(), gw.data());
      const double rtol = d == DType::Float64 ? 1e-12 : d == DType::Float32 ? 1e-5 : 1e-2;
      const std::string what = std::string(dtype_name(d)) + " groups " + std::to_string(s.groups) +
                               (s.flip ? " flip" : "");
      expect_arrays_match(Array::from_vector(y, dy.shape()), to_host(out).astype(DType::Float64),
                          rtol, "conv2d forward " + what);
      expect_arrays_match(Array::from_vector(dx, x.shape()), to_host(gx).astype(DType::Float64),
                          rtol, "conv2d backward data " + what);
      expect_arrays_match(Array::from_vector(dw, w.shape()), to_host(gw).astype(DType::Float64),
                          rtol, "conv2d backward filter " + what);
    }
  }
}

// What the emulator runs must also compile for a GPU.
TEST(CudaRuntimeNvrtc, TheCopyKernelsAndTheTestKernelCompileForSm90) {
  if (!cuda::built_with_cuda()) GTEST_SKIP() << "built without CUDA";
  for (auto [to, from] :
       {std::pair{DType::Float16, DType::Float64}, std::pair{DType::Bool, DType::BFloat16},
        std::pair{DType::UInt64, DType::Int8}})
    EXPECT_NO_THROW(cuda::compile_kernel(cuda::detail::copy_program(to, from).source, "sm_90"));
  EXPECT_NO_THROW(cuda::compile_kernel(kSumSource, "sm_90"));
  EXPECT_NO_THROW(cuda::compile_kernel(kAtomicsSource, "sm_90"));
}

TEST(CudaRuntimeSelect, Float32PrecisionIsExactByDefaultAndFollowsTheConfig) {
  EXPECT_EQ(cuda::float32_math_mode(), cuda::MathMode::exact);
  config().set("float32_matmul_precision", "high");
  EXPECT_EQ(cuda::float32_math_mode(), cuda::MathMode::tf32);
  config().set("float32_matmul_precision", "medium");
  EXPECT_EQ(cuda::float32_math_mode(), cuda::MathMode::bf16);
  EXPECT_THROW(config().set("float32_matmul_precision", "low"), std::invalid_argument);
  config().set("float32_matmul_precision", "highest");
  EXPECT_EQ(cuda::float32_math_mode(), cuda::MathMode::exact);
}

TEST(CudaRuntimeSelect, WithoutEmulationOrGpuDeviceZeroIsUnavailable) {
  if (cuda::is_available()) GTEST_SKIP() << "a GPU is present";
  const bool saved = cuda::emulation();
  cuda::set_emulation(false);
  EXPECT_THROW(cuda::device_runtime(0), DeviceUnavailable);
  EXPECT_THROW(require_device(parse_device("cuda:0"), "test"), DeviceUnavailable);
  cuda::set_emulation(true);
  EXPECT_NO_THROW(cuda::device_runtime(0));
  cuda::set_emulation(saved);
}

}  // namespace
}  // namespace theon::testing
