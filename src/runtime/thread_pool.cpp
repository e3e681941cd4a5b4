// The library's thread pool: persistent workers pulling chunks of one job at a time.
#include "theon/runtime/thread_pool.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "theon/config.h"

namespace theon {

namespace {

thread_local bool t_in_parallel = false;

// OpenBLAS is found at run time, so theon also links against other BLAS builds.
void set_blas_threads(int n) {
  using SetFn = void (*)(int);
  static SetFn fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn) fn(n);
}

// oneDNN's OpenMP team (libgomp, loaded as oneDNN's dependency and so not
// always visible through RTLD_DEFAULT) follows the same count; OpenMP keeps it
// per thread, so the oneDNN layer also sets it on other calling threads.
void set_omp_threads(int n) {
  using SetFn = void (*)(int);
  static SetFn fn = [] {
    void* h = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
    void* f = h ? dlsym(h, "omp_set_num_threads") : nullptr;
    if (!f) f = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    return reinterpret_cast<SetFn>(f);
  }();
  if (fn) fn(n);
}

class Pool {
 public:
  explicit Pool(int threads) { resize(threads); }
  ~Pool() { stop(); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    std::lock_guard<std::mutex> run(run_mutex_);
    quit_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  void run(int64_t chunks, const std::function<void(int64_t)>& task) {
    std::lock_guard<std::mutex> run(run_mutex_);  // one job at a time
    {
      std::lock_guard<std::mutex> lk(m_);
      task_.store(&task);
      chunks_.store(chunks);
      next_.store(0);  // last: a worker that sees the new counter sees the new job
      pending_ = chunks;
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    drain();
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [&] { return pending_ == 0; });
    task_.store(nullptr);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void drain() {
    t_in_parallel = true;
    for (;;) {
      int64_t c = next_.fetch_add(1);
      if (c >= chunks_.load()) break;
      try {
        (*task_.load())(c);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(m_);
      if (--pending_ == 0) done_cv_.notify_all();
    }
    t_in_parallel = false;
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return quit_ || (generation_ != seen && task_.load() != nullptr); });
        if (quit_) return;
        seen = generation_;
      }
      drain();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_, m_;
  std::condition_variable cv_, done_cv_;
  std::atomic<const std::function<void(int64_t)>*> task_{nullptr};
  std::atomic<int64_t> chunks_{0};
  int64_t pending_ = 0;
  std::atomic<int64_t> next_{0};
  uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

int resolve(int n) {
  if (n < 0) throw std::invalid_argument("num_threads must be >= 0 (0: every core), got " + std::to_string(n));
  if (n == 0) n = int(std::max(1u, std::thread::hardware_concurrency()));
  return n;
}

std::atomic<bool> g_started{false};

Pool& pool() {
  static Pool p([] {
    int n = resolve(config().num_threads);
    set_blas_threads(n);
    set_omp_threads(n);
    return n;
  }());
  g_started.store(true);
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  resolve(n);
  config().num_threads = n;
  apply_num_threads();
}

void apply_num_threads() {
  if (!g_started.load()) return;  // the pool reads config() when it starts
  int r = resolve(config().num_threads);
  if (r != pool().size()) pool().resize(r);
  set_blas_threads(r);
  set_omp_threads(r);
}

bool in_parallel_region() { return t_in_parallel; }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1 || t_in_parallel || pool().size() == 1) {
    for (int64_t c = 0; c < chunks; ++c) fn(c * grain, std::min(n, (c + 1) * grain));
    return;
  }
  pool().run(chunks, [&](int64_t c) { fn(c * grain, std::min(n, (c + 1) * grain)); });
}

}  // namespace theon
