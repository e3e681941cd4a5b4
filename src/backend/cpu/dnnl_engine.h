// The CPU oneDNN layer's shared state: one engine for the library, a stream
// per calling thread, a per-thread scratchpad, a thread-safe cache of
// primitives keyed by (shape, parameters, dtype), and the OpenMP thread count
// kept equal to theon's num_threads. Internal to src/; the ops reach oneDNN
// through dnnl_ops.h.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <memory>
#include <mutex>
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
// Makes oneDNN's OpenMP team on the calling thread as large as theon's
// num_threads (OpenMP keeps the count per thread, so this runs before every call).
void dnnl_sync_threads();
// Counts one convolution / pooling run (dnnl_run_count()).
void dnnl_count_run();

// Primitives built once per key and shared by every later call with that key;
// a null entry records that oneDNN has no implementation for the key, so the
// caller's reference kernel runs without asking oneDNN again.
template <class V>
class DnnlCache {
 public:
  std::shared_ptr<const V> get(const std::string& key, const std::function<std::shared_ptr<V>()>& make) {
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
