// The CUDA backend's memory, copies and library wrappers. Without a GPU they
// must fail cleanly (an exception naming the reason, never a crash); the
// tests that need a GPU skip with the reason.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "theon/backend/cuda.h"
#include "theon/backend/cuda_libs.h"
#include "theon/backend/cuda_memory.h"

namespace theon {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda::is_available()) GTEST_SKIP() << "no usable GPU: " << cuda::unavailable_reason()

Array random_floats(DType d, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = u(rng);
  return Array::from_vector(v, shape).astype(d);
}

TEST(CudaMemory, WithoutAGpuEveryEntryPointThrowsTheReason) {
  if (cuda::is_available()) GTEST_SKIP() << "a GPU is available";
  const std::string why = cuda::unavailable_reason();
  auto expect_reason = [&](auto&& f, const char* what) {
    try {
      f();
      ADD_FAILURE() << what << " did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << what << ": " << e.what();
    }
  };
  expect_reason([] { cuda::device_alloc(1024, 0); }, "device_alloc");
  expect_reason([] { cuda::DeviceBuffer b(1024, 0); }, "DeviceBuffer");
  expect_reason([] { cuda::Stream s(0); }, "Stream");
  expect_reason([] { cuda::pinned_alloc(64); }, "pinned_alloc");
  expect_reason([] { cuda::upload(Array::zeros(DType::Float32, {3}), 0); }, "upload");
  float x[4] = {};
  expect_reason(
      [&] { cuda::gemm(0, false, false, 2, 2, 1, 1, x, 1, x, 2, 0, x, 2, DType::Float32); },
      "gemm");
  if (cuda::have_cudnn())
    expect_reason([&] { cuda::conv2d_forward(0, cuda::Conv2dShape{}, DType::Float32, x, x, x); },
                  "conv2d_forward");
  cuda::device_free(nullptr, 0, 0);  // harmless
  EXPECT_EQ(cuda::device_memory_stats(0).in_use_bytes, 0u);
}

TEST(CudaMemory, BadArgumentsAreRejectedBeforeTouchingTheDevice) {
  if (!cuda::built_with_cuda()) GTEST_SKIP() << cuda::unavailable_reason();
  float x[4] = {};
  EXPECT_THROW(cuda::gemm(0, false, false, 2, 2, 1, 1, x, 1, x, 2, 0, x, 2, DType::Int32),
               std::invalid_argument);
  EXPECT_THROW(cuda::gemm(0, false, false, -1, 2, 1, 1, x, 1, x, 2, 0, x, 2, DType::Float32),
               std::invalid_argument);
  if (cuda::have_cudnn()) {
    cuda::Conv2dShape s;
    s.c = 3;
    s.groups = 2;
    EXPECT_THROW(cuda::conv2d_forward(0, s, DType::Float32, x, x, x), std::invalid_argument);
    EXPECT_THROW(cuda::conv2d_forward(0, cuda::Conv2dShape{}, DType::Int8, x, x, x),
                 std::invalid_argument);
  }
}

TEST(CudaMemory, ReleasedBlocksAreReusedForTheSameSizeClass) {
  SKIP_WITHOUT_GPU();
  const cuda::DeviceMemoryStats s0 = cuda::device_memory_stats(0);
  void* a = cuda::device_alloc(3 << 20, 0);
  cuda::device_free(a, 3 << 20, 0);
  void* b = cuda::device_alloc((3 << 20) - 100, 0);  // same class
  const cuda::DeviceMemoryStats s1 = cuda::device_memory_stats(0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(s1.cache_hits, s0.cache_hits + 1);
  EXPECT_EQ(s1.system_allocs, s0.system_allocs + 1);
  cuda::device_free(b, (3 << 20) - 100, 0);
  cuda::device_empty_cache(0);
  EXPECT_EQ(cuda::device_memory_stats(0).cached_bytes, 0u);
}

TEST(CudaMemory, UploadAndDownloadRoundTripEveryDtypeAndStridedArrays) {
  SKIP_WITHOUT_GPU();
  for (int k = 0; k < kNumDTypes; ++k) {
    const DType d = DType(k);
    Array a = random_floats(DType::Float64, {5, 7}, 3).astype(d).transpose();  // strided view
    cuda::DeviceBuffer b = cuda::upload(a, 0);
    Array back = cuda::download(b, d, a.shape());
    Array want = a.copy();
    ASSERT_EQ(std::memcmp(back.data(), want.data(), want.nbytes()), 0) << dtype_name(d);
  }
  // Device to device, then through pinned host memory.
  Array a = random_floats(DType::Float32, {1000}, 4);
  cuda::DeviceBuffer src = cuda::upload(a, 0), dst(a.nbytes(), 0);
  cuda::copy_on_device(dst.data(), src.data(), a.nbytes(), 0);
  void* pinned = cuda::pinned_alloc(a.nbytes());
  cuda::copy_to_host(pinned, dst.data(), a.nbytes(), 0);
  EXPECT_EQ(std::memcmp(pinned, a.data(), a.nbytes()), 0);
  cuda::pinned_free(pinned);
}

// C (m x n) = op(A) op(B) on the device against a double-precision loop.
TEST(CudaLibs, GemmMatchesALoopInEveryFloatDtypeAndTransposition) {
  SKIP_WITHOUT_GPU();
  const int64_t m = 37, n = 29, k = 41;
  for (DType d : {DType::Float64, DType::Float32, DType::Float16, DType::BFloat16})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Array a = random_floats(d, ta ? Shape{k, m} : Shape{m, k}, 1),
              b = random_floats(d, tb ? Shape{n, k} : Shape{k, n}, 2);
        Array c0 = random_floats(d, {m, n}, 3);
        cuda::DeviceBuffer da = cuda::upload(a, 0), db = cuda::upload(b, 0),
                           dc = cuda::upload(c0, 0);
        cuda::gemm(0, ta, tb, m, n, k, 1.5, da.data(), ta ? m : k, db.data(), tb ? k : n, 0.5,
                   dc.data(), n, d);
        Array got = cuda::download(dc, d, {m, n}).astype(DType::Float64);
        Array A = a.astype(DType::Float64), B = b.astype(DType::Float64),
              C = c0.astype(DType::Float64);
        const double tol = d == DType::Float64 ? 1e-12 : d == DType::Float32 ? 1e-4 : 0.1;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (int64_t p = 0; p < k; ++p)
              s += A.data_as<double>()[ta ? p * m + i : i * k + p] *
                   B.data_as<double>()[tb ? j * k + p : p * n + j];
            const double want = 1.5 * s + 0.5 * C.data_as<double>()[i * n + j];
            ASSERT_NEAR(got.data_as<double>()[i * n + j], want, tol * (1 + std::abs(want)))
                << dtype_name(d) << " ta=" << ta << " tb=" << tb << " at " << i << "," << j;
          }
      }
}

TEST(CudaLibs, Conv2dForwardMatchesADirectLoop) {
  SKIP_WITHOUT_GPU();
  if (!cuda::have_cudnn()) GTEST_SKIP() << "built without cuDNN";
  cuda::Conv2dShape s;
  s.n = 2, s.c = 4, s.h = 9, s.w = 8, s.k = 6, s.r = 3, s.s = 2;
  s.pad_h = 1, s.stride_w = 2, s.groups = 2;
  const int64_t cg = s.c / s.groups, kg = s.k / s.groups, oh = s.out_h(), ow = s.out_w();
  Array x = random_floats(DType::Float64, {s.n, s.c, s.h, s.w}, 5),
        w = random_floats(DType::Float64, {s.k, cg, s.r, s.s}, 6);
  cuda::DeviceBuffer dx = cuda::upload(x, 0), dw = cuda::upload(w, 0),
                     dy(size_t(s.n * s.k * oh * ow) * 8, 0);
  cuda::conv2d_forward(0, s, DType::Float64, dx.data(), dw.data(), dy.data());
  Array y = cuda::download(dy, DType::Float64, {s.n, s.k, oh, ow});
  const double* X = x.data_as<double>();
  const double* W = w.data_as<double>();
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t o = 0; o < s.k; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          const int64_t g = o / kg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < s.r; ++r)
              for (int64_t q = 0; q < s.s; ++q) {
                const int64_t hi = i * s.stride_h - s.pad_h + r, wi = j * s.stride_w - s.pad_w + q;
                if (hi < 0 || hi >= s.h || wi < 0 || wi >= s.w) continue;
                acc += X[((b * s.c + g * cg + c) * s.h + hi) * s.w + wi] *
                       W[((o * cg + c) * s.r + r) * s.s + q];
              }
          ASSERT_NEAR(y.data_as<double>()[((b * s.k + o) * oh + i) * ow + j], acc, 1e-10);
        }
}

}  // namespace
}  // namespace theon
