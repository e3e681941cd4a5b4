// Fused elementwise throughput: sigmoid(a*b + c) * tanh(a) + exp(-b*b) on
// float32 vectors (FAST_RUN fuses it into one Composite), against a plain
// copy of the same number of bytes (four arrays: three read, one written) as a
// memory-bandwidth reference, at 1 and 2 threads (bench/, not a test).
//   g++ -O2 -std=c++20 -Iinclude bench/fused_elemwise.cpp build/libtheon.a
//       -lopenblas -llapack -lz -lpthread -o /tmp/fe && /tmp/fe [n] [reps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <theon/runtime/thread_pool.h>
#include <theon/theon.h>

using namespace theon;

namespace {

template <class F>
double best_ms(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

Array random_f32(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-3, 3);
  Array a = Array::empty(DType::Float32, {n});
  float* p = a.data_as<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = u(rng);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 10;
  Var a = vector(DType::Float32, "a"), b = vector(DType::Float32, "b"), c = vector(DType::Float32, "c");
  Var y = sigmoid(a * b + c) * tanh(a) + exp(-b * b);
  auto fast = function({a, b, c}, {y});
  int composites = 0;
  for (const ApplyNode* node : fast->nodes()) composites += node->op->name().rfind("Composite", 0) == 0;
  std::printf("n = %lld float32, FAST_RUN: %d node(s), %d Composite\n", (long long)n, int(fast->nodes().size()),
              composites);
  std::vector<Array> args{random_f32(n, 1), random_f32(n, 2), random_f32(n, 3)};
  // The copy moves the same bytes as the fused op: 3 arrays read, 1 written.
  std::vector<float> src(size_t(3 * n)), dst(static_cast<size_t>(n));
  std::fill(src.begin(), src.end(), 1.0f);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    (*fast)(args);
    double fused = best_ms(reps, [&] { (*fast)(args); });
    double copy = best_ms(reps, [&] {
      parallel_for(n, 1 << 16, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) dst[size_t(i)] = src[size_t(i)] + src[size_t(n + i)] + src[size_t(2 * n + i)];
      });
    });
    double memcpy_ms = best_ms(reps, [&] {
      parallel_for(n, 1 << 16, [&](int64_t lo, int64_t hi) {
        std::memcpy(dst.data() + lo, src.data() + lo, size_t(hi - lo) * sizeof(float));
      });
    });
    std::printf("threads %d: fused %.2f ms | copy-like a+b+c (same bytes) %.2f ms, ratio %.2f | memcpy of one array %.2f ms\n",
                threads, fused, copy, fused / copy, memcpy_ms);
  }
  set_num_threads(0);
}
