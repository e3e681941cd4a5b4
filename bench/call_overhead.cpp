// Per-call overhead of a compiled function: a 10-node graph on scalars,
// called many times from C++ (bench/, not a test).
#include <chrono>
#include <cstdio>
#include <theon/theon.h>

using namespace theon;

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 100000;
  Var a = scalar(DType::Float64, "a"), b = scalar(DType::Float64, "b");
  Var y = a;
  for (int i = 0; i < 5; ++i) y = tanh(y * b + a);
  auto f = function({a, b}, {y});
  std::vector<Array> args{Array::scalar(DType::Float64, 0.5), Array::scalar(DType::Float64, 0.25)};
  for (int i = 0; i < 1000; ++i) (*f)(args);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) (*f)(args);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d nodes, %d calls: %.3f us per call\n", int(f->nodes().size()), calls, 1e6 * s / calls);
}
