// The CPU oneDNN layer's engine, streams, scratch buffers and thread count.
#include "dnnl_engine.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnnl_ops.h"
#include "theon/ops/conv.h"
#include "theon/runtime/thread_pool.h"

namespace theon {

namespace {

std::atomic<uint64_t> g_runs{0};  // dnnl_run_count()

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* e = std::getenv("THEON_DNNL");
    return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "false") == 0 || std::strcmp(e, "off") == 0));
  }()};
  return on;
}

// OpenMP is reached at run time: libgomp comes in as oneDNN's dependency, which
// Python's RTLD_LOCAL loading of the extension hides from RTLD_DEFAULT.
using SetThreadsFn = void (*)(int);
SetThreadsFn omp_setter() {
  static SetThreadsFn fn = [] {
    void* h = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
    void* f = h ? dlsym(h, "omp_set_num_threads") : nullptr;
    if (!f) f = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    return reinterpret_cast<SetThreadsFn>(f);
  }();
  return fn;
}

}  // namespace

bool dnnl_enabled() { return enabled_flag().load(std::memory_order_relaxed); }
void set_dnnl_enabled(bool on) { enabled_flag().store(on); }
uint64_t dnnl_run_count() { return g_runs.load(); }

namespace cpu {

bool dnnl_usable() { return dnnl_enabled() && !in_parallel_region(); }

dnnl::engine& dnnl_cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& dnnl_cpu_stream() {
  thread_local dnnl::stream s(dnnl_cpu_engine());
  return s;
}

void* dnnl_thread_buffer(int slot, size_t bytes) {
  thread_local std::vector<std::vector<char>> bufs;
  if (size_t(slot) >= bufs.size()) bufs.resize(size_t(slot) + 1);
  auto& b = bufs[size_t(slot)];
  // 64 spare bytes so that the returned pointer can be aligned for the kernels.
  if (b.size() < bytes + 64) b.resize(bytes + 64);
  auto p = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<void*>((p + 63) & ~uintptr_t(63));
}

void set_omp_threads(int n) {
  if (auto fn = omp_setter()) fn(n);
}

void dnnl_count_run() { g_runs.fetch_add(1, std::memory_order_relaxed); }

void dnnl_sync_threads() {
  thread_local int applied = -1;
  const int n = num_threads();
  if (n != applied) {
    set_omp_threads(n);
    applied = n;
  }
}

std::string dnnl_key(const char* what, std::initializer_list<int64_t> vals) {
  std::string k(what);
  for (int64_t v : vals) k += ',' + std::to_string(v);
  return k;
}

dnnl::primitive_attr dnnl_user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace cpu
}  // namespace theon
