// Uses an installed theon through find_package(theon).
#include <theon/theon.h>

#include <iostream>

int main() {
  using namespace theon;
  Var x = vector(DType::Float64, "x");
  auto f = function({x}, {sum(x * x)});
  double r = (*f)({Array::from_vector<double>({1, 2, 3})})[0].item_double();
  std::cout << "find_package(theon) consumer: sum(x*x) = " << r << "\n";
  return r == 14.0 ? 0 : 1;
}
