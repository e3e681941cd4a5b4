// A theon program in C++ alone: build an expression graph, compile it, run it
// on arrays, print the graph, and check the result against a plain loop.
#include <cmath>
#include <iostream>

#include <theon/theon.h>

int main() {
  using namespace theon;
  Var x = matrix(DType::Float64, "x");
  Var b = vector(DType::Float64, "b");
  // softplus-like expression with a broadcast bias and a row-sum
  Var y = sum(log1p(exp(x * 2.0 + b)), std::vector<int>{1});
  y.set_name("y");

  Var w = shared(Array::full(DType::Float64, {3}, 0.5), "w");
  auto f = function({x, b}, {y}, FunctionOptions{.updates = {{w, w * 2.0}}});

  std::cout << "Graph of y:\n" << debugprint({y});
  std::cout << "\nCompiled function:\n" << debugprint(*f);

  Array xv = Array::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  Array bv = Array::from_vector<double>({-1, 0, 1}, {3});
  Array out = (*f)({xv, bv})[0];
  std::cout << "\ny = " << out.to_string() << "\n";
  std::cout << "w after one call = " << get_value(w).to_string() << "\n";

  double err = 0;
  auto xd = xv.to_double_vector(), bd = bv.to_double_vector(), od = out.to_double_vector();
  for (int i = 0; i < 2; ++i) {
    double ref = 0;
    for (int j = 0; j < 3; ++j) ref += std::log1p(std::exp(xd[i * 3 + j] * 2.0 + bd[j]));
    err = std::max(err, std::abs(ref - od[i]));
  }
  std::cout << "max abs error vs reference: " << err << "\n";
  return err < 1e-12 ? 0 : 1;
}
