// theon/autodiff/verify_grad.h — checking symbolic gradients numerically.
//
// verify_grad builds fun(inputs) on float64 inputs, projects its output on a
// random tensor to get a scalar cost, and compares grad(cost, inputs) with
// central finite differences at the point `pt`. A mismatch throws
// GradientError with both values, as Theano's verify_grad does.
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>

#include "theon/graph/node.h"

namespace theon {

class GradientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VerifyGradOptions {
  int n_tests = 2;
  uint64_t seed = 0;
  double eps = 1e-6;
  double abs_tol = 1e-4;
  double rel_tol = 1e-4;
};

void verify_grad(const std::function<Var(const std::vector<Var>&)>& fun, const std::vector<Array>& pt,
                 const VerifyGradOptions& options = {});

}  // namespace theon
