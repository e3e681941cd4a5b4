// NVRTC compilation of generated kernels, cached in memory and on disk.
//
// NVRTC needs no GPU: it compiles CUDA C to CUBIN for a named architecture,
// so kernels are compiled (and tested) on any machine with the toolkit.
// Kernels are compiled with --fmad=false: a contracted a * b + c rounds once
// where the CPU rounds twice, and the backends should agree.
#include <nvrtc.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "common/kernel_cache.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda {

namespace {

struct State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const CompiledKernel>> memory;  // key hash -> image
  KernelCacheStats stats;
  std::string dir;  // set_kernel_cache_dir
  bool disk = true;
};

State& state() {
  static State* s = new State;  // never destroyed: kernels may be looked up during exit
  return *s;
}

void check(nvrtcResult r, const char* what) {
  if (r != NVRTC_SUCCESS)
    throw std::runtime_error(std::string("[nvrtc] ") + what + ": " + nvrtcGetErrorString(r));
}

// Owns an nvrtcProgram.
struct Program {
  nvrtcProgram p = nullptr;
  ~Program() {
    if (p) nvrtcDestroyProgram(&p);
  }
};

std::shared_ptr<const CompiledKernel> nvrtc_compile(const std::string& source,
                                                    const std::string& arch) {
  const bool cubin = arch.rfind("sm_", 0) == 0;
  if (!cubin && arch.rfind("compute_", 0) != 0)
    throw std::invalid_argument("[nvrtc] architecture must be sm_XX or compute_XX, got '" + arch +
                                "'");
  Program prog;
  check(nvrtcCreateProgram(&prog.p, source.c_str(), "theon_kernel.cu", 0, nullptr, nullptr),
        "nvrtcCreateProgram");
  const std::string arch_opt = "--gpu-architecture=" + arch;
  const char* opts[] = {arch_opt.c_str(), "--fmad=false", "--std=c++17"};
  const nvrtcResult r = nvrtcCompileProgram(prog.p, 3, opts);
  auto out = std::make_shared<CompiledKernel>();
  out->arch = arch;
  size_t n = 0;
  if (nvrtcGetProgramLogSize(prog.p, &n) == NVRTC_SUCCESS && n > 1) {
    out->log.resize(n);
    nvrtcGetProgramLog(prog.p, out->log.data());
    out->log.resize(n - 1);  // drop the terminating NUL
  }
  if (r != NVRTC_SUCCESS)
    throw std::runtime_error("[nvrtc] compiling a kernel for " + arch + " failed (" +
                             nvrtcGetErrorString(r) + "):\n" + out->log);
  if (cubin) {
    check(nvrtcGetCUBINSize(prog.p, &n), "nvrtcGetCUBINSize");
    out->image.resize(n);
    check(nvrtcGetCUBIN(prog.p, out->image.data()), "nvrtcGetCUBIN");
  } else {
    check(nvrtcGetPTXSize(prog.p, &n), "nvrtcGetPTXSize");
    out->image.resize(n);
    check(nvrtcGetPTX(prog.p, out->image.data()), "nvrtcGetPTX");
  }
  return out;
}

std::string default_dir() {
  return detail::cache_subdir("cuda");
}

std::string cache_key(const std::string& source, const std::string& arch) {
  return detail::hash_key(source + '\0' + arch + '\0' + nvrtc_version() + '\0' +
                          "--fmad=false --std=c++17");
}

}  // namespace

std::string nvrtc_version() {
  int major = 0, minor = 0;
  check(nvrtcVersion(&major, &minor), "nvrtcVersion");
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<std::string> nvrtc_architectures() {
  int n = 0;
  check(nvrtcGetNumSupportedArchs(&n), "nvrtcGetNumSupportedArchs");
  std::vector<int> archs(size_t(n > 0 ? n : 0));
  if (n > 0) check(nvrtcGetSupportedArchs(archs.data()), "nvrtcGetSupportedArchs");
  std::vector<std::string> out;
  for (int a : archs) out.push_back("sm_" + std::to_string(a));
  return out;
}

std::string kernel_cache_dir() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.dir.empty() ? default_dir() : s.dir;
}

void set_kernel_cache_dir(const std::string& dir) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.dir = dir;
}

void set_kernel_disk_cache(bool enabled) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.disk = enabled;
}

std::string kernel_cache_path(const std::string& source, const std::string& arch) {
  const std::string dir = kernel_cache_dir();
  return dir.empty() ? "" : dir + "/" + cache_key(source, arch) + "." + arch + ".bin";
}

KernelCacheStats kernel_cache_stats() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.stats;
}

void clear_kernel_memory_cache() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.memory.clear();
}

std::shared_ptr<const CompiledKernel> compile_kernel(const std::string& source,
                                                     const std::string& arch) {
  State& s = state();
  const std::string key = cache_key(source, arch);
  bool disk;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.memory.find(key);
    if (it != s.memory.end()) {
      ++s.stats.memory_hits;
      return it->second;
    }
    disk = s.disk;
  }
  const std::string path = disk ? kernel_cache_path(source, arch) : "";
  if (!path.empty()) {
    bool corrupt = false;
    if (auto image = detail::disk_cache_read(path, key, corrupt)) {
      auto k = std::make_shared<CompiledKernel>();
      k->image = std::move(*image);
      k->arch = arch;
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.disk_hits;
      return s.memory.emplace(key, std::move(k)).first->second;
    }
    if (corrupt) {
      std::lock_guard<std::mutex> lock(s.mu);
      ++s.stats.disk_rejected;
    }
  }
  // Compiled outside the lock: two threads may compile the same source once each; both get equal
  // images.
  std::shared_ptr<const CompiledKernel> k = nvrtc_compile(source, arch);
  if (!path.empty())
    detail::disk_cache_write(path, key, k->image);  // a read-only cache only costs recompiles
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.stats.nvrtc_compiles;
  return s.memory.emplace(key, std::move(k)).first->second;
}

}  // namespace theon::cuda
