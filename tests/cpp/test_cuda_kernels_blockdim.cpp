// The reduce, nnet and random device kernels with more than one thread per
// block, on the host: a DeviceRuntime whose launches run each block's
// threads as host threads (block-shared `__shared__` statics, a barrier for
// __syncthreads) with a chosen blockDim and at most a few blocks (the
// grid-stride loops cover the rest); memory and everything else is the
// emulator's. The emulator itself runs blockDim 1, so this is what checks
// the shared-memory trees, the split reductions and the atomics of the
// parallel random draws for blockDims of 2, 3, 8 and 33 — a barrier missed
// by some threads deadlocks, a missing one races.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "../../src/backend/cuda/emulator/host_compiler.h"
#include "cuda_kernel_random_inputs.h"
#include "theon/ops/nnet.h"
#include "theon/ops/nnet_fused.h"
#include "theon/ops/random.h"
#include "theon/ops/reduce.h"

namespace theon::testing {
namespace {

// The emulator's harness with block-shared statics and a real barrier.
std::string threaded_source(const cuda::KernelProgram& program) {
  std::string h = cuda::detail::emulator_harness();
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = h.find(from);
    if (at == std::string::npos) throw std::logic_error("harness changed: no " + from);
    h.replace(at, from.size(), to);
  };
  replace("#define __shared__ static thread_local", "#define __shared__ static");
  replace("inline void __syncthreads() {}",
          "void theon_mt_sync();\ninline void __syncthreads() { theon_mt_sync(); }");
  std::string s = h + program.source + R"(
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
static std::mutex theon_mt_mu;
static std::condition_variable theon_mt_cv;
static int theon_mt_waiting = 0, theon_mt_threads = 1;
static long theon_mt_generation = 0;
void theon_mt_sync() {
  std::unique_lock<std::mutex> lock(theon_mt_mu);
  const long g = theon_mt_generation;
  if (++theon_mt_waiting == theon_mt_threads) {
    theon_mt_waiting = 0;
    ++theon_mt_generation;
    theon_mt_cv.notify_all();
  } else {
    theon_mt_cv.wait(lock, [&] { return theon_mt_generation != g; });
  }
}
)";
  for (const std::string& k : program.kernels)
    s += "extern \"C\" void theon_mt_" + k +
         "(const long long* w, long long blocks, int threads) {\n"
         "  Args a;\n"
         "  memcpy(a.w, w, sizeof a.w);\n"
         "  theon_mt_threads = threads;\n"
         "  for (long long b = 0; b < blocks; ++b) {\n"
         "    std::vector<std::thread> ts;\n"
         "    for (int t = 0; t < threads; ++t)\n"
         "      ts.emplace_back([&a, b, t, blocks, threads] {\n"
         "        gridDim = HostDim3{unsigned(blocks), 1, 1};\n"
         "        blockDim = HostDim3{unsigned(threads), 1, 1};\n"
         "        blockIdx = HostDim3{unsigned(b), 0, 0};\n"
         "        threadIdx = HostDim3{unsigned(t), 0, 0};\n"
         "        " +
         k +
         "(a);\n"
         "      });\n"
         "    for (auto& th : ts) th.join();\n"
         "  }\n"
         "}\n";
  return s;
}

class ThreadedBlocks final : public cuda::DeviceRuntime {
 public:
  ThreadedBlocks(cuda::DeviceRuntime& base, int threads) : base_(base), threads_(threads) {}
  int index() const override { return base_.index(); }
  bool emulated() const override { return true; }
  std::string description() const override { return "cuda:0 (threaded blocks)"; }
  int sm_count() const override { return 1; }
  std::shared_ptr<Buffer> allocate(size_t n) override { return base_.allocate(n); }
  void upload(void* d, const void* s, size_t n) override { base_.upload(d, s, n); }
  void download(void* d, const void* s, size_t n) override { base_.download(d, s, n); }
  void copy(void* d, const void* s, size_t n) override { base_.copy(d, s, n); }
  void zero(void* d, size_t n) override { base_.zero(d, n); }
  void synchronize() override { base_.synchronize(); }
  int* error_flag() override { return base_.error_flag(); }
  int take_error() override { return base_.take_error(); }
  void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
            int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
            DType dtype) override {
    base_.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, dtype);
  }
  void conv2d_forward(const cuda::Conv2dShape& s, DType d, const void* x, const void* w,
                      void* y) override {
    base_.conv2d_forward(s, d, x, w, y);
  }
  void conv2d_backward_data(const cuda::Conv2dShape& s, DType d, const void* dy, const void* w,
                            void* dx) override {
    base_.conv2d_backward_data(s, d, dy, w, dx);
  }
  void conv2d_backward_filter(const cuda::Conv2dShape& s, DType d, const void* x, const void* dy,
                              void* dw) override {
    base_.conv2d_backward_filter(s, d, x, dy, dw);
  }
  void launch(const cuda::KernelProgram& program, const std::string& kernel,
              const cuda::LaunchShape& shape, const std::vector<int64_t>& words) override {
    static std::map<std::string, void*> libs;
    void*& lib = libs[program.source];
    if (!lib) lib = cuda::detail::load_host_library(threaded_source(program), "threaded " + kernel);
    using Entry = void (*)(const long long*, long long, int);
    auto fn = reinterpret_cast<Entry>(dlsym(lib, ("theon_mt_" + kernel).c_str()));
    ASSERT_NE(fn, nullptr) << kernel;
    std::vector<long long> w(size_t(program.num_words), 0);
    std::copy(words.begin(), words.end(), w.begin());
    // Kernels that only thread 0 of block 0 runs keep their one thread.
    const int threads = shape.threads == 1 ? 1 : threads_;
    fn(w.data(), std::min<int64_t>(shape.blocks, 3), threads);
  }

 private:
  cuda::DeviceRuntime& base_;
  int threads_;
};

class CudaKernelsBlockDim : public CudaDeviceTest {
 protected:
  // Runs node's kernel with `threads` per block and compares with perform.
  void check(const ApplyNode& node, const std::vector<Array>& host, double rtol, int threads) {
    if (!rt().emulated()) GTEST_SKIP() << "threaded blocks stand in for a GPU";
    const cuda::DeviceKernel* k = cuda::find_device_kernel(*node.op);
    ASSERT_NE(k, nullptr);
    std::vector<Array> ins;
    for (size_t i = 0; i < host.size(); ++i)
      ins.push_back(k->host_input && k->host_input(*node.op, int(i))
                        ? host[i]
                        : cuda::to_device(host[i], rt()));
    std::vector<Array> want(node.outputs.size()), got(node.outputs.size());
    node.op->perform(host, want);
    ThreadedBlocks mt(rt(), threads);
    rt().take_error();
    k->run(mt, node, ins, got);
    ASSERT_EQ(rt().take_error(), 0);
    for (size_t i = 0; i < want.size(); ++i)
      expect_arrays_match(want[i], cuda::to_host(got[i]), rtol,
                          node.op->name() + " blockDim " + std::to_string(threads));
  }
};

Var input_var(DType d, int ndim) {
  return tensor(d, std::vector<int64_t>(size_t(ndim), kUnknownDim));
}

TEST_F(CudaKernelsBlockDim, ReductionsEveryPath) {
  std::mt19937 rng(11);
  Var x = input_var(DType::Float32, 2);
  Var xb = input_var(DType::Bool, 2);
  Var xd = input_var(DType::Float64, 2);
  // Ties and NaN for argmax; long rows (split), leading-axis columns (split by columns).
  Array ties = random_values(DType::Float32, {5, 300}, rng, true);
  for (int threads : {2, 3, 8, 33}) {
    SCOPED_TRACE(threads);
    check(*sum(x, std::vector<int>{1}).owner(), {random_values(DType::Float32, {5, 300}, rng)},
          2e-5, threads);
    check(*make1<Reduce>({x}, ReduceKind::ArgMax, std::vector<int>{1}, false).owner(), {ties}, 0,
          threads);
    check(*max(xd, std::vector<int>{0}).owner(),
          {random_values(DType::Float64, {300, 40}, rng, true)}, 0, threads);
    check(*all(xb, std::vector<int>{1}).owner(), {random_values(DType::Bool, {4, 50}, rng)}, 0,
          threads);
    check(*sum(x, std::vector<int>{1}).owner(), {random_values(DType::Float32, {2, 20000}, rng)},
          2e-5, threads);
    check(*make1<Reduce>({x}, ReduceKind::ArgMin, std::vector<int>{1}, false).owner(),
          {random_values(DType::Float32, {2, 20000}, rng, true)}, 0, threads);
  }
}

TEST_F(CudaKernelsBlockDim, SoftmaxAndCrossentropyRows) {
  std::mt19937 rng(12);
  Var x = input_var(DType::Float32, 2);
  Var y = input_var(DType::Int64, 1);
  for (int threads : {2, 3, 8, 33}) {
    SCOPED_TRACE(threads);
    check(*softmax(x, 1).owner(), {random_values(DType::Float32, {7, 50}, rng)}, 1e-5, threads);
    check(*log_softmax(x, 0).owner(), {random_values(DType::Float32, {50, 7}, rng)}, 1e-5, threads);
    std::vector<int64_t> idx(6);
    for (auto& v : idx) v = int64_t(rng() % 40);
    check(*softmax_crossentropy_1hot(x, y).owner(),
          {random_values(DType::Float32, {6, 40}, rng), Array::from_vector<int64_t>(idx, {6})},
          1e-5, threads);
  }
}

TEST_F(CudaKernelsBlockDim, ParallelRandomDrawsAndTheirRedo) {
  Var state = tensor(DType::UInt64, {2}), sz = tensor(DType::Int64, {1});
  Var lo = tensor(DType::Float64, {}), hi = tensor(DType::Float64, {});
  std::vector<Var> outs =
      random_variable(RandomDist::Uniform, state, sz, {lo, hi}, DType::Float16, 1);
  for (int threads : {2, 8}) {
    SCOPED_TRACE(threads);
    check(*outs[1].owner(),
          {random_state(5, 1), Array::from_vector<int64_t>({3000}, {1}),
           Array::scalar(DType::Float64, 1.0), Array::scalar(DType::Float64, 1.0009765625)},
          0, threads);
  }
}

}  // namespace
}  // namespace theon::testing
