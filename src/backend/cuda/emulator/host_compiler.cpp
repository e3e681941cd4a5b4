// CUDA C compiled as host C++ (see host_compiler.h).
//
// Libraries are written to a unique temporary name and renamed into place,
// so concurrent processes compiling the same text each end up loading a
// complete file. Loaded libraries are never unloaded: kernels of a program
// may be called for as long as the process runs.
#include "host_compiler.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "../../../ops/special_math.h"
#include "theon/runtime/half.h"

namespace theon::cuda::detail {

namespace {

constexpr const char* kFlags = "-std=c++17 -O1 -w -shared -fPIC -DTHEON_HOST_EMULATION";

float hook_h2f(uint16_t b) {
  return float16::to_float(b);
}
uint16_t hook_f2h(float f) {
  return float16::from_float(f);
}
double hook_erfinv(double x) {
  return theon::detail::special::erfinv(x);
}
double hook_erfcinv(double x) {
  return theon::detail::special::erfcinv(x);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t mix_hash(const std::string& s) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  for (unsigned char c : s) {
    h = (h ^ uint64_t(c)) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

std::string hash_text(const std::string& s) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(fnv1a(s)),
                static_cast<unsigned long long>(mix_hash(s)));
  return buf;
}

std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, void*> loaded;  // by text
  EmulatorCacheStats stats;
  std::atomic<uint64_t> generation{0};
};

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: libraries stay loaded until exit
  return *c;
}

// dlopen + hooks; null (and `error` set) when the file does not load.
void* open_library(const std::string& path, std::string& error) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    error = e ? e : "dlopen failed";
    return nullptr;
  }
  using SetHooks =
      void (*)(float (*)(uint16_t), uint16_t (*)(float), double (*)(double), double (*)(double));
  auto set = reinterpret_cast<SetHooks>(dlsym(lib, "theon_set_hooks"));
  if (!set) {
    error = "theon_set_hooks missing (the text does not start with the harness)";
    dlclose(lib);
    return nullptr;
  }
  set(hook_h2f, hook_f2h, hook_erfinv, hook_erfcinv);
  return lib;
}

}  // namespace

const char* emulator_harness() {
  return R"(// theon CUDA emulator harness: CUDA's built-ins for kernels run on the host
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
using namespace std;
#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __shared__ static thread_local
#define __constant__ static
struct HostDim3 { unsigned x, y, z; };
static thread_local HostDim3 blockIdx{0, 0, 0}, threadIdx{0, 0, 0}, blockDim{1, 1, 1}, gridDim{1, 1, 1};
static const int warpSize = 1;
inline void __syncthreads() {}
inline int __syncthreads_or(int p) { return p; }
inline int __syncthreads_and(int p) { return p; }
inline int __syncthreads_count(int p) { return p != 0; }
inline void __syncwarp(unsigned = 0xffffffffu) {}
inline void __threadfence() {}
inline void __threadfence_block() {}
// Dynamic shared memory: the launch's LaunchShape::shared_bytes, given by the runtime.
static thread_local unsigned char* theon_dynamic_shared = nullptr;
#define THEON_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(theon_dynamic_shared)
inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, 8); return i; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0 ? 0.0f : (x > 1 ? 1.0f : x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
template <class T> inline T __ldg(const T* p) { return *p; }
// Warp functions of a one-lane warp: every source lane but our own is out of range.
template <class T> inline T __shfl_sync(unsigned, T v, int, int = 1) { return v; }
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned, int = 1) { return v; }
template <class T> inline T __shfl_down_sync(unsigned, T v, unsigned, int = 1) { return v; }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int, int = 1) { return v; }
inline unsigned __ballot_sync(unsigned, int p) { return p ? 1u : 0u; }
inline int __any_sync(unsigned, int p) { return p != 0; }
inline int __all_sync(unsigned, int p) { return p != 0; }
inline unsigned __activemask() { return 1u; }
// Atomics (host threads may run kernels concurrently).
template <class T> inline T theon_atomic_cas(T* p, T cmp, T val) {
  __atomic_compare_exchange(p, &cmp, &val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
template <class T, class F> inline T theon_atomic_update(T* p, F f) {
  T old;
  __atomic_load(p, &old, __ATOMIC_SEQ_CST);
  for (;;) {
    T want = f(old);
    if (__atomic_compare_exchange(p, &old, &want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return old;
  }
}
inline int atomicCAS(int* p, int cmp, int val) { return theon_atomic_cas(p, cmp, val); }
inline unsigned atomicCAS(unsigned* p, unsigned cmp, unsigned val) { return theon_atomic_cas(p, cmp, val); }
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long cmp, unsigned long long val) { return theon_atomic_cas(p, cmp, val); }
inline unsigned short atomicCAS(unsigned short* p, unsigned short cmp, unsigned short val) { return theon_atomic_cas(p, cmp, val); }
#define THEON_ATOMIC_INT(T)                                                                        \
  inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }               \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }             \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }           \
  inline T atomicMax(T* p, T v) { return theon_atomic_update(p, [v](T o) { return o < v ? v : o; }); } \
  inline T atomicMin(T* p, T v) { return theon_atomic_update(p, [v](T o) { return v < o ? v : o; }); }
THEON_ATOMIC_INT(int)
THEON_ATOMIC_INT(unsigned)
THEON_ATOMIC_INT(long long)
THEON_ATOMIC_INT(unsigned long long)
#undef THEON_ATOMIC_INT
inline float atomicAdd(float* p, float v) { return theon_atomic_update(p, [v](float o) { return o + v; }); }
inline double atomicAdd(double* p, double v) { return theon_atomic_update(p, [v](double o) { return o + v; }); }
inline float atomicExch(float* p, float v) { float old; __atomic_exchange(p, &v, &old, __ATOMIC_SEQ_CST); return old; }
// theon's float16 conversions and erfinv, connected when the library is loaded.
static float (*theon_h2f)(uint16_t);
static uint16_t (*theon_f2h)(float);
static double (*theon_erfinv)(double);
static double (*theon_erfcinv)(double);
inline double erfinv(double x) { return theon_erfinv(x); }
inline double erfcinv(double x) { return theon_erfcinv(x); }
inline float erfinvf(float x) { return float(theon_erfinv(x)); }
inline float erfcinvf(float x) { return float(theon_erfcinv(x)); }
extern "C" void theon_set_hooks(float (*h2f)(uint16_t), uint16_t (*f2h)(float), double (*ei)(double), double (*eci)(double)) {
  theon_h2f = h2f; theon_f2h = f2h; theon_erfinv = ei; theon_erfcinv = eci;
}
)";
}

const std::string& host_compiler() {
  static const std::string cxx = [] {
    std::vector<std::string> names;
    if (const char* c = std::getenv("CXX"); c && *c) names.push_back(c);
    for (const char* n : {"c++", "g++", "clang++"}) names.push_back(n);
    for (const std::string& n : names)
      if (std::system(("command -v " + n + " >/dev/null 2>&1").c_str()) == 0) return n;
    return std::string();
  }();
  return cxx;
}

std::string emulator_cache_dir() {
  if (const char* d = std::getenv("THEON_CACHE_DIR"); d && *d)
    return std::string(d) + "/cuda-emulator";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d)
    return std::string(d) + "/theon/cuda-emulator";
  if (const char* d = std::getenv("HOME"); d && *d)
    return std::string(d) + "/.cache/theon/cuda-emulator";
  return (std::filesystem::temp_directory_path() / "theon-cuda-emulator").string();
}

void* load_host_library(const std::string& source, const std::string& what) {
  namespace fs = std::filesystem;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);  // one compile at a time in a process
  if (auto it = c.loaded.find(source); it != c.loaded.end()) {
    ++c.stats.memory_hits;
    return it->second;
  }
  const std::string& cxx = host_compiler();
  if (cxx.empty())
    throw std::runtime_error("[cuda emulator] " + what +
                             ": no C++ compiler found ($CXX, c++, g++, clang++)");
  const std::string key = hash_text(cxx + "\n" + kFlags + "\n" + source);
  std::error_code ec;
  fs::path dir = emulator_cache_dir();
  fs::create_directories(dir, ec);
  if (ec || access(dir.c_str(), W_OK) != 0) {
    dir = fs::temp_directory_path() / "theon-cuda-emulator";
    fs::create_directories(dir, ec);
  }
  const fs::path so = dir / (key + ".so");
  std::string error;
  if (fs::exists(so, ec)) {
    if (void* lib = open_library(so.string(), error)) {
      ++c.stats.disk_hits;
      c.loaded.emplace(source, lib);
      return lib;
    }
  }
  static std::atomic<uint64_t> counter{0};
  const std::string stem =
      key + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const fs::path cpp = dir / (stem + ".cpp"), tmp = dir / (stem + ".so"),
                 log = dir / (stem + ".log");
  std::ofstream(cpp) << source;
  const std::string cmd = cxx + " " + kFlags + " -o " + quote(tmp.string()) + " " +
                          quote(cpp.string()) + " >" + quote(log.string()) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ++c.stats.compiles;
  std::string text;
  {
    std::ifstream in(log);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  fs::remove(cpp, ec);
  fs::remove(log, ec);
  if (rc != 0) {
    fs::remove(tmp, ec);
    throw std::runtime_error("[cuda emulator] compiling " + what + " with " + cxx + " failed:\n" +
                             text.substr(0, 3000));
  }
  fs::rename(tmp, so, ec);  // atomic: another process sees the old file, none, or this one
  const fs::path path = ec ? tmp : so;
  void* lib = open_library(path.string(), error);
  if (!lib) throw std::runtime_error("[cuda emulator] loading " + what + ": " + error);
  c.loaded.emplace(source, lib);
  return lib;
}

EmulatorCacheStats emulator_cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void clear_emulator_memory_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.loaded.clear();
  ++c.generation;
}

uint64_t emulator_cache_generation() {
  return cache().generation.load();
}

}  // namespace theon::cuda::detail
