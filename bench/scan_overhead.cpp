// Per-step overhead of Scan (bench/, not a test): a 1,000-step scan of
// h = tanh(h * w + x_t) on vectors of 10, against the same inner ops called
// directly on the same row views (the inner work), from C++.
//   g++ -O2 -std=c++20 -Iinclude bench/scan_overhead.cpp build/libtheon.a -lpthread [libs] -o /tmp/scan_overhead
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <theon/ops/scan.h>
#include <theon/theon.h>

using namespace theon;

template <class F>
double median_seconds(F&& f, int runs) {
  std::vector<double> ts;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000, d = 10;
  Var x = matrix(DType::Float32, "x"), h0 = vector(DType::Float32, "h0"), w = vector(DType::Float32, "w");
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{tanh(a[1] * a[2] + a[0])}}; },
                {ScanSequence{x}}, {ScanOutput{h0}}, {w});
  auto f = function({x, h0, w}, {r.outputs[0]});
  Array xv = Array::full(DType::Float32, {n, d}, 0.01), hv = Array::zeros(DType::Float32, {d}),
        wv = Array::full(DType::Float32, {d}, 0.5);
  double t_scan = median_seconds([&] { (*f)({xv, hv, wv}); }, 200);
  double t_one = median_seconds([&] { (*f)({xv.slice(0, 0, 1, 1), hv, wv}); }, 200);

  // The inner work: the compiled step's one fused op run n times on row views
  // made before the clock starts, writing each result into a trace row.
  Var xs = vector(DType::Float32, "xs"), hs = vector(DType::Float32, "hs"), ws = vector(DType::Float32, "ws");
  auto step = function({xs, hs, ws}, {tanh(hs * ws + xs)});
  if (step->nodes().size() != 1) std::printf("warning: the step compiled to %zu nodes\n", step->nodes().size());
  ApplyNode* node = step->nodes()[0];
  std::vector<int> order;
  for (const Var& v : node->inputs)
    for (size_t k = 0; k < 3; ++k)
      if (step->inputs()[k].variable.is(v)) order.push_back(int(k));
  Array trace = Array::zeros(DType::Float32, {n + 1, d});
  std::vector<std::vector<Array>> args(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    std::vector<Array> by_input{xv.index(0, t), trace.index(0, t), wv};
    for (int k : order) args[size_t(t)].push_back(by_input[size_t(k)]);
  }
  std::vector<Array> rows;
  for (int64_t t = 0; t < n; ++t) rows.push_back(trace.index(0, t + 1));
  std::vector<Array> outs(1);
  double t_inner = median_seconds(
      [&] {
        for (int64_t t = 0; t < n; ++t) {
          node->op->perform(args[size_t(t)], outs);
          rows[size_t(t)].assign(outs[0]);
        }
      },
      200);
  std::printf("scan of %lld steps (vector of %lld, float32), %zu inner node(s)\n", (long long)n, (long long)d,
              step->nodes().size());
  std::printf("  scan call            %8.1f us\n", 1e6 * t_scan);
  std::printf("  1-step scan call     %8.1f us (fixed cost of a call)\n", 1e6 * t_one);
  std::printf("  inner ops alone      %8.1f us (%lld perform calls on prepared views + row copies)\n", 1e6 * t_inner, (long long)n);
  std::printf("  loop overhead        %8.1f us total, %.0f ns per step\n", 1e6 * (t_scan - t_one - t_inner),
              1e9 * (t_scan - t_one - t_inner) / double(n));
}
