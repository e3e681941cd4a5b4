// CUDA code generation of fused elementwise kernels: the generated source,
// NVRTC compiling every op of the table in every dtype for sm_80 and sm_90,
// and the memory and disk caches of compiled kernels. NVRTC needs no GPU;
// without the CUDA toolkit the compiling tests skip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cuda_test_programs.h"
#include "theon/backend/cuda.h"

namespace theon::testing {
namespace {

#define SKIP_WITHOUT_NVRTC() \
  if (!cuda::built_with_cuda()) GTEST_SKIP() << cuda::unavailable_reason()

// A fresh cache directory per test, removed afterwards; the default is restored.
struct TempCacheDir {
  std::filesystem::path dir;
  TempCacheDir() {
    dir = std::filesystem::temp_directory_path() /
          ("theon_cuda_cache_" + std::to_string(::getpid()) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    cuda::set_kernel_cache_dir(dir.string());
    cuda::set_kernel_disk_cache(true);
    cuda::clear_kernel_memory_cache();
  }
  ~TempCacheDir() {
    cuda::set_kernel_cache_dir("");
    cuda::clear_kernel_memory_cache();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

TEST(CudaCodegen, SourceRunsEachInstructionInItsKernelDtype) {
  ScalarProgram p;
  p.inputs = {DType::Float16, DType::Int32};
  p.instrs = {ScalarInstr{false, ScalarOpId::exp, DType::Float64, {0}},  // f16 computed in float32
              ScalarInstr{false, ScalarOpId::add, DType::Float64, {2, 1}},  // f16 + i32 -> float64
              ScalarInstr{true, ScalarOpId::identity, DType::Int8, {3}}};
  p.outputs = {4, 2};
  Composite c(p);
  cuda::FusedKernelSource s = cuda::fused_kernel_source(c, "kern");
  EXPECT_EQ(s.num_inputs, 2);
  EXPECT_EQ(s.num_outputs, 2);
  const std::string& src = s.source;
  EXPECT_NE(src.find("extern \"C\" __global__ void kern_contig("), std::string::npos);
  EXPECT_NE(src.find("extern \"C\" __global__ void kern_strided("), std::string::npos);
  EXPECT_NE(src.find("const f16 v2 = cvt<f16>(op_exp<float>(cvt<float>(v0)));"), std::string::npos)
      << src;
  EXPECT_NE(src.find("const double v3 = op_add<double>(cvt<double>(v2), cvt<double>(v1));"),
            std::string::npos);
  EXPECT_NE(src.find("const i8 v4 = cvt<i8>(v3);"), std::string::npos);
  EXPECT_EQ(src.find("#include"), std::string::npos);  // NVRTC needs no include path
}

TEST(CudaCodegen, TooManyOperandsIsAClearError) {
  ScalarProgram p;
  p.inputs.assign(size_t(cuda::kMaxOperands), DType::Float32);
  p.instrs = {ScalarInstr{false, ScalarOpId::add, DType::Float64, {0, 1}}};
  p.outputs = {cuda::kMaxOperands};
  Composite c(p);
  try {
    cuda::fused_kernel_source(c);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at most " + std::to_string(cuda::kMaxOperands)),
              std::string::npos);
  }
}

TEST(CudaCodegen, PackedArgumentsFollowTheDocumentedLayout) {
  int flag = 0;
  float x[6], y[6];
  cuda::FusedArgs a = cuda::pack_fused_args({2, 3}, {x, y}, {{12, 4}, {4, 8}}, &flag);
  ASSERT_EQ(a.words.size(), cuda::FusedArgs::size_words(2));
  EXPECT_EQ(a.words[0], 6);
  EXPECT_EQ(a.words[1], 2);
  EXPECT_EQ(a.words[2], 2);
  EXPECT_EQ(a.words[3], 3);
  EXPECT_EQ(a.words[2 + cuda::kMaxDims], int64_t(reinterpret_cast<intptr_t>(&flag)));
  EXPECT_EQ(a.words[3 + cuda::kMaxDims], int64_t(reinterpret_cast<intptr_t>(x)));
  EXPECT_EQ(a.words[4 + cuda::kMaxDims], int64_t(reinterpret_cast<intptr_t>(y)));
  const size_t s0 = 5 + cuda::kMaxDims;
  EXPECT_EQ(a.words[s0], 12);
  EXPECT_EQ(a.words[s0 + 1], 4);
  EXPECT_EQ(a.words[s0 + cuda::kMaxDims], 4);
  EXPECT_EQ(a.words[s0 + cuda::kMaxDims + 1], 8);
  EXPECT_THROW(cuda::pack_fused_args({2, 3}, {x}, {{4}}, nullptr), std::invalid_argument);
  EXPECT_THROW(cuda::pack_fused_args(Shape(9, 1), {x}, {std::vector<int64_t>(9, 0)}, nullptr),
               std::invalid_argument);
}

// Compiles every table op for inputs of each dtype in `dtypes` for `arch`:
// every (op, kernel dtype) instantiation once, and in each dtype's program
// the conversions to its kernel dtypes; one NVRTC program per dtype, on as
// many threads as there are cores (NVRTC is thread-safe).
void compile_table(const std::vector<DType>& dtypes, const std::string& arch) {
  std::vector<std::string> sources, errors(dtypes.size());
  size_t instrs = 0;
  std::set<std::pair<int, int>> seen;
  for (DType d : dtypes) {
    auto programs = table_programs(d, 40, false, &seen);
    for (auto& c : programs) instrs += c->program().instrs.size();
    sources.push_back(combined_source(programs));
  }
  EXPECT_GT(instrs, dtypes.size() * 10);
  EXPECT_GE(seen.size(), size_t(150));  // (op, kernel dtype) instantiations compiled
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  const size_t nthreads =
      std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), dtypes.size()));
  for (size_t t = 0; t < nthreads; ++t)
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < sources.size();) {
        try {
          auto k = cuda::compile_kernel(sources[i], arch);
          if (k->image.substr(0, 4) != std::string("\x7f"
                                                   "ELF"))
            errors[i] = "not a CUBIN";  // CUBINs are ELF
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      }
    });
  for (auto& w : workers) w.join();
  for (size_t i = 0; i < dtypes.size(); ++i)
    EXPECT_EQ(errors[i], "") << arch << ", inputs of dtype " << dtype_name(dtypes[i]);
}

// Every op of the table, in every dtype it has a loop for, compiles for
// sm_80 (Ampere) and sm_90 (Hopper).
TEST(CudaCodegen, EveryTableOpInEveryDtypeCompilesForSm80AndSm90) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  compile_table(all_dtypes(), "sm_80");
  compile_table(all_dtypes(), "sm_90");
}

TEST(CudaCodegen, MixedDtypeProgramCompilesToCubinAndPtx) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  const std::string src = cuda::fused_kernel_source(*mixed_program()).source;
  auto cubin = cuda::compile_kernel(src, "sm_90");
  EXPECT_EQ(cubin->arch, "sm_90");
  auto ptx = cuda::compile_kernel(src, "compute_80");
  EXPECT_NE(ptx->image.find(".entry theon_fused_contig"), std::string::npos);
  EXPECT_NE(ptx->image.find(".entry theon_fused_strided"), std::string::npos);
}

TEST(CudaCodegen, NvrtcErrorsCarryTheLog) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  try {
    cuda::compile_kernel("extern \"C\" __global__ void k() { undefined_thing(); }", "sm_90");
    FAIL() << "compiled";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("undefined_thing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cuda::compile_kernel("", "sm90"), std::invalid_argument);
  EXPECT_FALSE(cuda::nvrtc_version().empty());
  auto archs = cuda::nvrtc_architectures();
  EXPECT_NE(std::find(archs.begin(), archs.end(), "sm_90"), archs.end());
}

// A source no other test compiles (so no earlier cache entry can answer).
std::string unique_source(const char* tag) {
  return "// " + std::string(tag) + " " + std::to_string(::getpid()) + " " +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
         "\nextern \"C\" __global__ void k(float* x) { x[threadIdx.x] *= 2.0f; }\n";
}

TEST(CudaKernelCache, SecondCompileIsServedFromMemoryThenFromDisk) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  const std::string src = unique_source("cache");
  const cuda::KernelCacheStats s0 = cuda::kernel_cache_stats();
  auto first = cuda::compile_kernel(src, "sm_90");
  const cuda::KernelCacheStats s1 = cuda::kernel_cache_stats();
  EXPECT_EQ(s1.nvrtc_compiles, s0.nvrtc_compiles + 1);
  EXPECT_TRUE(std::filesystem::exists(cuda::kernel_cache_path(src, "sm_90")));
  EXPECT_EQ(cuda::kernel_cache_path(src, "sm_90").rfind(cache.dir.string(), 0), 0u);

  auto again = cuda::compile_kernel(src, "sm_90");  // memory
  const cuda::KernelCacheStats s2 = cuda::kernel_cache_stats();
  EXPECT_EQ(s2.nvrtc_compiles, s1.nvrtc_compiles);
  EXPECT_EQ(s2.memory_hits, s1.memory_hits + 1);
  EXPECT_EQ(again.get(), first.get());

  cuda::clear_kernel_memory_cache();  // as a new process would start
  auto disk = cuda::compile_kernel(src, "sm_90");
  const cuda::KernelCacheStats s3 = cuda::kernel_cache_stats();
  EXPECT_EQ(s3.nvrtc_compiles, s2.nvrtc_compiles);
  EXPECT_EQ(s3.disk_hits, s2.disk_hits + 1);
  EXPECT_EQ(disk->image, first->image);

  auto other_arch = cuda::compile_kernel(src, "sm_80");  // the architecture is part of the key
  EXPECT_EQ(cuda::kernel_cache_stats().nvrtc_compiles, s3.nvrtc_compiles + 1);
  EXPECT_NE(other_arch->image, first->image);
  // No temporary file is left behind by the atomic writes.
  for (const auto& e : std::filesystem::directory_iterator(cache.dir))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(CudaKernelCache, CorruptOrTruncatedCacheFilesAreRecompiledAndRewritten) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  const std::string src = unique_source("corrupt");
  auto good = cuda::compile_kernel(src, "sm_90");
  const std::string path = cuda::kernel_cache_path(src, "sm_90");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(bytes.size(), good->image.size());
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ 0x5a);
  for (const std::string& bad :
       {std::string("garbage"), bytes.substr(0, bytes.size() - 100), flipped, std::string()}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << bad;
    }
    cuda::clear_kernel_memory_cache();
    const cuda::KernelCacheStats before = cuda::kernel_cache_stats();
    auto k = cuda::compile_kernel(src, "sm_90");
    const cuda::KernelCacheStats after = cuda::kernel_cache_stats();
    EXPECT_EQ(after.nvrtc_compiles, before.nvrtc_compiles + 1);
    EXPECT_EQ(after.disk_rejected, before.disk_rejected + 1);
    EXPECT_EQ(k->image, good->image);
    // The file was rewritten: the next fresh process reads it.
    cuda::clear_kernel_memory_cache();
    cuda::compile_kernel(src, "sm_90");
    EXPECT_EQ(cuda::kernel_cache_stats().disk_hits, after.disk_hits + 1);
  }
}

TEST(CudaKernelCache, ConcurrentCompilesOfOneSourceAgree) {
  SKIP_WITHOUT_NVRTC();
  TempCacheDir cache;
  const std::string src = unique_source("threads");
  std::vector<std::shared_ptr<const cuda::CompiledKernel>> got(4);
  std::vector<std::thread> ts;
  for (size_t i = 0; i < got.size(); ++i)
    ts.emplace_back([&, i] { got[i] = cuda::compile_kernel(src, "sm_90"); });
  for (auto& t : ts) t.join();
  for (auto& g : got) EXPECT_EQ(g->image, got[0]->image);
  cuda::clear_kernel_memory_cache();
  const uint64_t compiles = cuda::kernel_cache_stats().nvrtc_compiles;
  EXPECT_EQ(cuda::compile_kernel(src, "sm_90")->image, got[0]->image);
  EXPECT_EQ(cuda::kernel_cache_stats().nvrtc_compiles, compiles);  // one complete file was left
}

TEST(CudaKernelCache, WithoutCudaCompilingSaysSo) {
  if (cuda::built_with_cuda()) GTEST_SKIP() << "built with CUDA";
  try {
    cuda::compile_kernel("", "sm_90");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos);
  }
}

}  // namespace
}  // namespace theon::testing
