// The CPU oneDNN layer's shared state: one engine for the library, a stream
// per calling thread, a per-thread scratchpad, a thread-safe cache of
// primitives keyed by (shape, parameters, dtype), and the OpenMP thread count
// kept equal to theon's num_threads. Internal to src/; the ops reach oneDNN
// through dnnl_ops.h.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

namespace theon::cpu {

// The library's CPU engine (created on first use).
dnnl::engine& dnnl_cpu_engine();
// A stream on that engine for the calling thread.
dnnl::stream& dnnl_cpu_stream();
// A buffer of at least `bytes` owned by the calling thread, for primitives'
// scratchpads and layout conversions; valid until the next call on that thread
// with the same slot (slots let one call hold several buffers at once).
void* dnnl_thread_buffer(int slot, size_t bytes);
// How oneDNN gets its threads. Pool (the default): every oneDNN call runs
// single-threaded (OpenMP team of 1) on a chunk of the batch, and the chunks
// run on theon's thread pool, so theon's kernels and oneDNN share one set of
// num_threads threads. OpenMP (THEON_DNNL_THREADS=omp): one call on the whole
// batch with an OpenMP team of num_threads, never from inside a parallel_for
// task. With both pools on the same cores, libgomp's workers spin after each
// call (OMP_WAIT_POLICY=active by default) while theon's workers need the
// cores, which made a CNN training step 2-3x slower on 2 cores.
bool dnnl_omp_mode();
// Sets the calling thread's OpenMP team size for the next oneDNN call: 1 in
// pool mode, num_threads in OpenMP mode (OpenMP keeps the count per thread).
void dnnl_sync_threads();
// Batch chunk length: about 8 chunks (THEON_DNNL_CHUNKS), set by the batch
// size alone, so the results, weight gradients included, do not depend on
// the thread count; the whole batch in OpenMP mode. (2 to 16 chunks measured
// alike on 2 cores.)
int64_t dnnl_batch_grain(int64_t n);
// Calls fn(b0, b1) for the chunks of [0, n), on theon's thread pool in pool mode.
void dnnl_for_batch(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
// Counts one convolution / pooling op call run on oneDNN (dnnl_run_count()).
void dnnl_count_run();

// Primitives built once per key and shared by every later call with that key;
// a null entry records that oneDNN has no implementation for the key, so the
// caller's reference kernel runs without asking oneDNN again.
template <class V>
class DnnlCache {
 public:
  std::shared_ptr<const V> get(const std::string& key,
                               const std::function<std::shared_ptr<V>()>& make) {
    {
      std::lock_guard<std::mutex> lk(m_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::shared_ptr<V> v;
    try {
      v = make();
    } catch (const dnnl::error&) {
      v = nullptr;  // unimplemented or rejected parameters: the reference kernel runs
    }
    std::lock_guard<std::mutex> lk(m_);
    return map_.emplace(key, std::move(v)).first->second;
  }

 private:
  std::mutex m_;
  std::unordered_map<std::string, std::shared_ptr<const V>> map_;
};

// Key text for a list of integers.
std::string dnnl_key(const char* what, std::initializer_list<int64_t> vals);

// A primitive attribute with a user-provided scratchpad (so concurrent calls
// never share oneDNN's internal one).
dnnl::primitive_attr dnnl_user_scratchpad_attr();

}  // namespace theon::cpu
