#include "theon/autodiff/verify_grad.h"

#include <cmath>
#include <random>
#include <sstream>

#include "theon/autodiff/grad.h"
#include "theon/compile/function.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"

namespace theon {

void verify_grad(const std::function<Var(const std::vector<Var>&)>& fun, const std::vector<Array>& pt,
                 const VerifyGradOptions& opt) {
  if (pt.empty()) throw std::invalid_argument("[verify_grad] pt must hold at least one point");
  std::vector<Var> xs;
  std::vector<Array> point;
  std::vector<In> ins;
  for (size_t i = 0; i < pt.size(); ++i) {
    point.push_back(pt[i].astype(DType::Float64));
    xs.push_back(tensor(DType::Float64, std::vector<int64_t>(pt[i].ndim(), kUnknownDim), "input" + std::to_string(i)));
    ins.emplace_back(xs.back());
  }
  Var out = fun(xs);
  if (!out.defined()) throw std::invalid_argument("[verify_grad] fun returned an undefined variable");
  if (!is_float(out.dtype()))
    throw std::invalid_argument("[verify_grad] fun must return a float expression, got " + out.type().str());
  FunctionOptions fo;
  fo.on_unused_input = "ignore";
  Array out_value = (*function(ins, {out}, fo))(point)[0];
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (int t = 0; t < opt.n_tests; ++t) {
    // A random projection turns any output into a scalar cost.
    Array proj = Array::empty(DType::Float64, out_value.shape());
    for (int64_t k = 0; k < proj.size(); ++k) proj.data_as<double>()[k] = uni(rng);
    Var cost = sum(mul(cast(out, DType::Float64), constant(proj)));
    auto f_cost = function(ins, {cost}, fo);
    GradOptions go;
    go.disconnected_inputs = DisconnectedInputs::Ignore;
    auto f_grad = function(ins, grad(cost, xs, go), fo);
    std::vector<Array> analytic = (*f_grad)(point);
    for (size_t i = 0; i < point.size(); ++i) {
      Array a = analytic[i].contiguous(DType::Float64);
      for (int64_t k = 0; k < point[i].size(); ++k) {
        std::vector<Array> plus = point, minus = point;
        plus[i] = point[i].copy();
        minus[i] = point[i].copy();
        plus[i].data_as<double>()[k] += opt.eps;
        minus[i].data_as<double>()[k] -= opt.eps;
        double numeric = ((*f_cost)(plus)[0].item_double() - (*f_cost)(minus)[0].item_double()) / (2 * opt.eps);
        double an = a.data_as<double>()[k];
        double abs_err = std::fabs(an - numeric);
        double rel_err = abs_err / std::max(std::fabs(an) + std::fabs(numeric), 1e-300);
        if (std::isnan(an) != std::isnan(numeric) || (abs_err > opt.abs_tol && rel_err > opt.rel_tol)) {
          std::ostringstream os;
          os.precision(10);
          os << "[verify_grad] gradient mismatch for input " << i << " at flat index " << k
             << ": analytic " << an << ", numeric " << numeric << " (abs error " << abs_err << ", rel error "
             << rel_err << "; abs_tol " << opt.abs_tol << ", rel_tol " << opt.rel_tol << ")";
          throw GradientError(os.str());
        }
      }
    }
  }
}

}  // namespace theon
