// The host emulator of device cuda:0 (see cuda_device.h).
//
// "Device" memory is host memory tagged device 0, so the host cannot read it
// through Array by mistake. Each KernelProgram becomes one shared library:
// the harness, the program's text, and per kernel a wrapper
// theon_emu_<name>(words, blocks, shared) that runs the kernel once per block with
// blockDim.x == 1. Work runs when it is queued, so synchronize has nothing
// to wait for. gemm runs on the CPU's BLAS, convolution on theon's CPU ops.
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "../../../ops/blas_lapack.h"
#include "../common/runtimes.h"
#include "host_compiler.h"
#include "theon/ops/conv.h"

namespace theon::cuda {

namespace {

constexpr size_t kAlign = 256;
constexpr size_t kMaxSharedBytes = 227 * 1024;  // the most a GPU gives one block (sm_90)

// A host Array over emulator memory (device -1), for theon's CPU code.
Array host_view(const void* p, DType dtype, const Shape& shape, const Strides& strides) {
  int64_t span = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) span = 0;
    if (span) span += (shape[i] - 1) * strides[i];
  }
  const size_t nbytes = span ? size_t(span - 1) + itemsize(dtype) : 0;
  return Array(dtype, shape, strides, 0, Buffer::wrap(const_cast<void*>(p), nbytes, nullptr));
}

Array host_matrix(const void* p, DType dtype, int64_t rows, int64_t cols, int64_t ld) {
  const int64_t isz = int64_t(itemsize(dtype));
  return host_view(p, dtype, {rows, cols}, {ld * isz, isz});
}

// Row-major C = alpha op(A) op(B) + beta C on float32 / float64 BLAS, as the
// column-major C^T = op(B)^T op(A)^T (operands swapped, flags kept).
template <class T>
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
               const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
  const f_int fm = f_int(m), fn = f_int(n), fk = f_int(k), la = f_int(lda), lb = f_int(ldb),
              lc = f_int(ldc);
  if constexpr (std::is_same_v<T, float>)
    sgemm_(&cb, &ca, &fn, &fm, &fk, &alpha, b, &lb, a, &la, &beta, c, &lc, 1, 1);
  else
    dgemm_(&cb, &ca, &fn, &fm, &fk, &alpha, b, &lb, a, &la, &beta, c, &lc, 1, 1);
}

ConvParams conv_params(const Conv2dShape& s) {
  ConvParams p;
  set_border_mode(p, s.pad_h, s.pad_w);
  p.subsample = {s.stride_h, s.stride_w};
  p.dilation = {s.dilation_h, s.dilation_w};
  p.filter_flip = false;  // cross-correlation, as cuDNN computes it
  p.num_groups = s.groups;
  return p;
}

void store(const Array& result, void* dst) {
  host_view(dst, result.dtype(), result.shape(), c_strides(result.shape(), result.itemsize()))
      .assign(result);
}

class Emulator final : public DeviceRuntime {
 public:
  Emulator() {
    flag_ = allocate(sizeof(int));
    std::memset(flag_->data, 0, sizeof(int));
  }
  int index() const override { return 0; }
  bool emulated() const override { return true; }
  std::string description() const override { return "cuda:0 (theon's host emulator)"; }
  int sm_count() const override { return 1; }

  std::shared_ptr<Buffer> allocate(size_t nbytes) override {
    // Over-allocate to place the block on a 256-byte boundary, as cudaMalloc does.
    std::shared_ptr<Buffer> base = Buffer::allocate(nbytes + kAlign);
    auto addr = reinterpret_cast<uintptr_t>(base->data);
    void* p = reinterpret_cast<void*>((addr + kAlign - 1) / kAlign * kAlign);
    auto b = Buffer::wrap(p, nbytes, std::shared_ptr<void>(base, base->data));
    b->device = 0;
    return b;
  }
  void upload(void* dst, const void* src, size_t nbytes) override { copy_bytes(dst, src, nbytes); }
  void download(void* dst, const void* src, size_t nbytes) override {
    copy_bytes(dst, src, nbytes);
  }
  void copy(void* dst, const void* src, size_t nbytes) override { copy_bytes(dst, src, nbytes); }
  void zero(void* dst, size_t nbytes) override {
    if (nbytes) std::memset(dst, 0, nbytes);
  }

  void launch(const KernelProgram& program, const std::string& kernel, const LaunchShape& shape,
              const std::vector<int64_t>& words) override {
    detail::check_launch(program, kernel, shape, words);
    if (shape.blocks == 0) return;
    using Entry = void (*)(const long long*, long long, void*);
    Entry fn = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const uint64_t g = detail::emulator_cache_generation(); g != generation_) {
        programs_.clear();
        generation_ = g;
      }
      auto it = programs_.find(program.source);
      if (it == programs_.end()) {
        void* lib =
            detail::load_host_library(detail::host_source(program), detail::kernel_names(program));
        it = programs_.emplace(program.source, Loaded{lib, {}}).first;
      }
      Loaded& l = it->second;
      auto k = l.entries.find(kernel);
      if (k == l.entries.end()) {
        auto f = reinterpret_cast<Entry>(dlsym(l.lib, ("theon_emu_" + kernel).c_str()));
        if (!f)
          throw std::invalid_argument("[cuda emulator] the program has no kernel '" + kernel +
                                      "' (it declares " + detail::kernel_names(program) + ")");
        k = l.entries.emplace(kernel, f).first;
      }
      fn = k->second;
    }
    std::vector<long long> w(size_t(std::max(program.num_words, 1)), 0);
    std::memcpy(w.data(), words.data(), words.size() * sizeof(int64_t));
    // The block's dynamic shared memory, as much as the launch asks for (one per host thread).
    thread_local std::vector<std::max_align_t> shared;
    const size_t cells =
        (shape.shared_bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    if (shared.size() < std::max<size_t>(cells, 1)) shared.resize(std::max<size_t>(cells, 1));
    fn(w.data(), static_cast<long long>(shape.blocks), shared.data());
  }
  void synchronize() override {}

  int* error_flag() override { return static_cast<int*>(flag_->data); }
  int take_error() override { return __atomic_exchange_n(error_flag(), 0, __ATOMIC_SEQ_CST); }

  void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
            const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
            int64_t ldc, DType dtype) override {
    if (m == 0 || n == 0) return;
    Array am = host_matrix(a, dtype, trans_a ? k : m, trans_a ? m : k, lda);
    Array bm = host_matrix(b, dtype, trans_b ? n : k, trans_b ? k : n, ldb);
    Array cm = host_matrix(c, dtype, m, n, ldc);
    const bool wide = dtype == DType::Float64;
    if (!wide && dtype != DType::Float32 && dtype != DType::Float16 && dtype != DType::BFloat16)
      throw std::invalid_argument(std::string("[cuda emulator] gemm: no routine for ") +
                                  std::string(dtype_name(dtype)));
    const DType cdt = wide ? DType::Float64 : DType::Float32;
    // BLAS wants leading dimensions >= the row length (and >= 1): copy operands whose ld is not.
    auto operand = [&](const Array& x) {
      return x.dtype() == cdt &&
                     x.strides()[0] >= std::max<int64_t>(x.shape()[1], 1) * int64_t(x.itemsize())
                 ? x
                 : x.contiguous(cdt);
    };
    Array ac = operand(am), bc = operand(bm);
    Array cc = (cm.dtype() == cdt && ldc >= std::max<int64_t>(n, 1)) ? cm
               : beta != 0                                           ? cm.contiguous(cdt)
                                                                     : Array::zeros(cdt, {m, n});
    auto ld = [](const Array& x) {
      return std::max<int64_t>(x.strides()[0] / int64_t(x.itemsize()), 1);
    };
    if (wide)
      blas_gemm<double>(trans_a, trans_b, m, n, k, alpha, ac.data_as<double>(), ld(ac),
                        bc.data_as<double>(), ld(bc), beta, cc.data_as<double>(), ld(cc));
    else
      blas_gemm<float>(trans_a, trans_b, m, n, k, float(alpha), ac.data_as<float>(), ld(ac),
                       bc.data_as<float>(), ld(bc), float(beta), cc.data_as<float>(), ld(cc));
    if (cc.data() != cm.data()) cm.assign(cc);
  }

  void conv2d_forward(const Conv2dShape& s, DType dtype, const void* x, const void* w,
                      void* y) override {
    Array xa = host_contig(x, dtype, {s.n, s.c, s.h, s.w});
    Array wa = host_contig(w, dtype, {s.k, s.c / s.groups, s.r, s.s});
    std::vector<Array> out(1);
    Conv2d(conv_params(s)).perform({xa, wa}, out);
    store(out[0].astype(dtype), y);
  }
  void conv2d_backward_data(const Conv2dShape& s, DType dtype, const void* dy, const void* w,
                            void* dx) override {
    Array wa = host_contig(w, dtype, {s.k, s.c / s.groups, s.r, s.s});
    Array dya = host_contig(dy, dtype, {s.n, s.k, s.out_h(), s.out_w()});
    std::vector<Array> out(1);
    Conv2dGradInputs(conv_params(s))
        .perform({wa, dya, Array::from_vector<int64_t>({s.h, s.w})}, out);
    store(out[0].astype(dtype), dx);
  }
  void conv2d_backward_filter(const Conv2dShape& s, DType dtype, const void* x, const void* dy,
                              void* dw) override {
    Array xa = host_contig(x, dtype, {s.n, s.c, s.h, s.w});
    Array dya = host_contig(dy, dtype, {s.n, s.k, s.out_h(), s.out_w()});
    std::vector<Array> out(1);
    Conv2dGradWeights(conv_params(s))
        .perform({xa, dya, Array::from_vector<int64_t>({s.r, s.s})}, out);
    store(out[0].astype(dtype), dw);
  }

 private:
  struct Loaded {
    void* lib;
    std::map<std::string, void (*)(const long long*, long long, void*)> entries;
  };

  static void copy_bytes(void* dst, const void* src, size_t nbytes) {
    if (nbytes) std::memmove(dst, src, nbytes);
  }
  static Array host_contig(const void* p, DType dtype, const Shape& shape) {
    return host_view(p, dtype, shape, c_strides(shape, itemsize(dtype)));
  }

  std::shared_ptr<Buffer> flag_;
  std::mutex mu_;
  std::map<std::string, Loaded> programs_;  // by source
  uint64_t generation_ = 0;                 // of the host compiler's memory cache
};

}  // namespace

namespace detail {

std::string kernel_names(const KernelProgram& program) {
  std::string s;
  for (const std::string& k : program.kernels) s += (s.empty() ? "" : ", ") + k;
  return "kernels [" + s + "]";
}

void check_launch(const KernelProgram& program, const std::string& kernel, const LaunchShape& shape,
                  const std::vector<int64_t>& words) {
  auto bad = [&](const std::string& msg) {
    throw std::invalid_argument("[cuda] launch of " + kernel + ": " + msg);
  };
  if (std::find(program.kernels.begin(), program.kernels.end(), kernel) == program.kernels.end())
    bad("the program declares no such kernel (it has " + kernel_names(program) + ")");
  if (words.size() > size_t(program.num_words))
    bad(std::to_string(words.size()) + " words for an Args of " +
        std::to_string(program.num_words));
  if (shape.blocks < 0 || shape.blocks > 0x7fffffff)
    bad("blocks must be in [0, 2^31), got " + std::to_string(shape.blocks));
  if (shape.threads < 1 || shape.threads > 1024)
    bad("threads must be in [1, 1024], got " + std::to_string(shape.threads));
  if (shape.shared_bytes > kMaxSharedBytes)
    bad(std::to_string(shape.shared_bytes) + " bytes of dynamic shared memory (at most " +
        std::to_string(kMaxSharedBytes) + ")");
}

std::string host_source(const KernelProgram& program) {
  std::string s = emulator_harness();
  s += program.source;
  s += "\n// ---- emulator entry points ----\n";
  for (const std::string& k : program.kernels)
    s += "extern \"C\" void theon_emu_" + k +
         "(const long long* w, long long blocks, void* shared) {\n"
         "  theon_dynamic_shared = static_cast<unsigned char*>(shared);\n"
         "  Args a;\n"
         "  memcpy(a.w, w, sizeof a.w);\n"
         "  gridDim = HostDim3{unsigned(blocks), 1, 1};\n"
         "  blockDim = HostDim3{1, 1, 1};\n"
         "  threadIdx = HostDim3{0, 0, 0};\n"
         "  for (long long b = 0; b < blocks; ++b) {\n"
         "    blockIdx = HostDim3{unsigned(b), 0, 0};\n"
         "    " +
         k +
         "(a);\n"
         "  }\n"
         "}\n";
  return s;
}

DeviceRuntime& emulator_runtime() {
  static auto* rt = new Emulator;  // never destroyed: device arrays may outlive static destructors
  return *rt;
}

}  // namespace detail

}  // namespace theon::cuda
