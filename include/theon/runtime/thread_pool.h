// theon/runtime/thread_pool.h — one pool of worker threads for the library.
//
// Kernels split work with parallel_for; the calling thread takes part, and a
// parallel_for issued from inside another runs serially, so nested kernels
// never oversubscribe the cores. The pool's size is config.num_threads
// (0: every core); set_num_threads also sets OpenBLAS's and OpenMP's (oneDNN's)
// thread counts, so BLAS, oneDNN and theon's own kernels use the same number
// of cores. oneDNN is never called from inside a parallel_for task.
#pragma once
#include <cstdint>
#include <functional>

namespace theon {

// Threads kernels may use (>= 1).
int num_threads();
// Resizes the pool (0: every core) and tells OpenBLAS; throws for a negative count.
void set_num_threads(int n);
// Calls fn(begin, end) on disjoint ranges covering [0, n), each at least `grain`
// long (except the last), in parallel when n > grain. Exceptions thrown by fn
// are rethrown in the caller (the first one). Chunking depends only on n and
// grain, never on the thread count, so reductions built on it give the same
// bits whatever the number of threads.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
// Makes a running pool follow config().num_threads (called when the option changes).
void apply_num_threads();
// True inside a parallel_for task (nested parallel_for calls run serially).
bool in_parallel_region();

}  // namespace theon
