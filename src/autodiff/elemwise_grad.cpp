// Gradient rules of the elementwise table (one case per differentiable row)
// and of Cast. Each rule gives d out / d input_k * gz in terms of the inputs x,
// y, c, the output z and the output gradient gz; broadcasting is undone by
// sum_to_like afterwards, and integer inputs are disconnected.
#include <cmath>

#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"

namespace theon {

namespace {

using G = std::vector<Var>;  // one gradient per input; undefined = zero / disconnected

Var f(const Var& like, double v) { return weak_scalar(v, ScalarKind::Float, like.dtype()); }
Var as_float(const Var& mask, const Var& like) { return cast(mask, like.dtype()); }

// trigamma(x) = psi'(x), as a graph of elementwise ops (so it can be
// differentiated again). For x >= 0: the recurrence psi'(x) = 1/x^2 + psi'(x+1)
// six times, then the asymptotic series at z = x + 6 (error below 1e-10).
// For x < 0 the reflection psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x). Each
// branch is evaluated only on values valid for it, so the branch a switch
// discards never produces an infinity whose gradient would be NaN.
Var trigamma(const Var& x) {
  const Var negative = lt(x, f(x, 0.0));
  const Var y = switch_(negative, sub(f(x, 1.0), x), x);
  Var acc = zeros_like(y);
  for (int k = 0; k < 6; ++k) acc = add(acc, reciprocal(sqr(add(y, f(y, k)))));
  const Var z = add(y, f(y, 6.0));
  const Var iz = reciprocal(z), iz2 = sqr(iz);
  // 1/z + 1/(2z^2) + 1/(6z^3) - 1/(30z^5) + 1/(42z^7) - 1/(30z^9), in Horner form over 1/z^2.
  Var p = sub(f(z, 1.0 / 42), mul(iz2, f(z, 1.0 / 30)));
  p = add(f(z, -1.0 / 30), mul(iz2, p));
  p = add(f(z, 1.0 / 6), mul(iz2, p));
  const Var series = add(add(iz, mul(iz2, f(z, 0.5))), mul(mul(iz2, iz), p));
  const Var positive = add(acc, series);
  const Var xs = switch_(negative, x, f(x, 0.5));
  const Var reflection = true_div(f(x, M_PI * M_PI), sqr(sin(mul(xs, f(xs, M_PI)))));
  return switch_(negative, sub(reflection, positive), positive);
}

// The rule of one row; `zero` marks piecewise-constant functions (gradient 0).
G rule(ScalarOpId id, const std::vector<Var>& in, const Var& z, const Var& gz, bool& zero) {
  const Var& x = in[0];
  const Var y = in.size() > 1 ? in[1] : Var();
  const double ln2 = std::log(2.0), ln10 = std::log(10.0), sqrt_pi = std::sqrt(M_PI);
  switch (id) {
    case ScalarOpId::add: return {gz, gz};
    case ScalarOpId::sub: return {gz, neg(gz)};
    case ScalarOpId::mul: return {mul(gz, y), mul(gz, x)};
    case ScalarOpId::true_div: return {true_div(gz, y), neg(true_div(mul(gz, x), sqr(y)))};
    case ScalarOpId::mod: return {gz, neg(mul(gz, int_div(x, y)))};
    case ScalarOpId::pow: return {mul(gz, mul(y, pow(x, sub(y, f(y, 1))))), mul(gz, mul(log(x), z))};
    case ScalarOpId::maximum: return {mul(gz, as_float(ge(x, y), gz)), mul(gz, as_float(lt(x, y), gz))};
    case ScalarOpId::minimum: return {mul(gz, as_float(le(x, y), gz)), mul(gz, as_float(gt(x, y), gz))};
    case ScalarOpId::arctan2: {
      Var d = add(sqr(x), sqr(y));
      return {mul(gz, true_div(y, d)), neg(mul(gz, true_div(x, d)))};
    }
    case ScalarOpId::identity: return {gz};
    case ScalarOpId::neg: return {neg(gz)};
    case ScalarOpId::abs: return {mul(gz, sgn(x))};
    case ScalarOpId::sqr: return {mul(gz, mul(x, f(x, 2)))};
    case ScalarOpId::reciprocal: return {neg(true_div(gz, sqr(x)))};
    case ScalarOpId::sqrt: return {true_div(gz, mul(z, f(z, 2)))};
    case ScalarOpId::cbrt: return {true_div(gz, mul(sqr(z), f(z, 3)))};
    case ScalarOpId::exp: return {mul(gz, z)};
    case ScalarOpId::exp2: return {mul(gz, mul(z, f(z, ln2)))};
    case ScalarOpId::expm1: return {mul(gz, add(z, f(z, 1)))};
    case ScalarOpId::log: return {true_div(gz, x)};
    case ScalarOpId::log2: return {true_div(gz, mul(x, f(x, ln2)))};
    case ScalarOpId::log10: return {true_div(gz, mul(x, f(x, ln10)))};
    case ScalarOpId::log1p: return {true_div(gz, add(x, f(x, 1)))};
    case ScalarOpId::sin: return {mul(gz, cos(x))};
    case ScalarOpId::cos: return {neg(mul(gz, sin(x)))};
    case ScalarOpId::tan: return {mul(gz, add(sqr(z), f(z, 1)))};
    case ScalarOpId::arcsin: return {true_div(gz, sqrt(sub(f(x, 1), sqr(x))))};
    case ScalarOpId::arccos: return {neg(true_div(gz, sqrt(sub(f(x, 1), sqr(x)))))};
    case ScalarOpId::arctan: return {true_div(gz, add(sqr(x), f(x, 1)))};
    case ScalarOpId::sinh: return {mul(gz, cosh(x))};
    case ScalarOpId::cosh: return {mul(gz, sinh(x))};
    case ScalarOpId::tanh: return {mul(gz, sub(f(z, 1), sqr(z)))};
    case ScalarOpId::arcsinh: return {true_div(gz, sqrt(add(sqr(x), f(x, 1))))};
    case ScalarOpId::arccosh: return {true_div(gz, sqrt(sub(sqr(x), f(x, 1))))};
    case ScalarOpId::arctanh: return {true_div(gz, sub(f(x, 1), sqr(x)))};
    case ScalarOpId::erf: return {mul(gz, mul(exp(neg(sqr(x))), f(x, 2 / sqrt_pi)))};
    case ScalarOpId::erfc: return {mul(gz, mul(exp(neg(sqr(x))), f(x, -2 / sqrt_pi)))};
    case ScalarOpId::erfinv: return {mul(gz, mul(exp(sqr(z)), f(z, sqrt_pi / 2)))};
    case ScalarOpId::erfcinv: return {mul(gz, mul(exp(sqr(z)), f(z, -sqrt_pi / 2)))};
    case ScalarOpId::gamma: return {mul(gz, mul(z, psi(x)))};
    case ScalarOpId::gammaln: return {mul(gz, psi(x))};
    case ScalarOpId::psi: return {mul(gz, trigamma(x))};
    case ScalarOpId::sigmoid: return {mul(gz, mul(z, sub(f(z, 1), z)))};
    case ScalarOpId::softplus: return {mul(gz, sigmoid(x))};
    case ScalarOpId::softsign: return {true_div(gz, sqr(add(abs(x), f(x, 1))))};
    case ScalarOpId::hard_sigmoid: return {mul(gz, mul(as_float(lt(abs(x), f(x, 2.5)), gz), f(gz, 0.2)))};
    case ScalarOpId::clip: {
      const Var& lo = in[1];
      const Var& hi = in[2];
      Var inside = logical_and(ge(x, lo), le(x, hi));
      return {mul(gz, as_float(inside, gz)), mul(gz, as_float(lt(x, lo), gz)), mul(gz, as_float(gt(x, hi), gz))};
    }
    case ScalarOpId::switch_: {
      Var zero_g = zeros_like(gz);
      // The condition is connected with a zero gradient, as Theano's Switch.
      return {zeros_like(in[0], gz.dtype()), switch_(in[0], gz, zero_g), switch_(in[0], zero_g, gz)};
    }
    case ScalarOpId::int_div:
    case ScalarOpId::sgn:
    case ScalarOpId::floor:
    case ScalarOpId::ceil:
    case ScalarOpId::trunc:
    case ScalarOpId::round_half_to_even:
    case ScalarOpId::round_half_away_from_zero:
      zero = true;
      return G(in.size());
    default:
      return {};  // no rule: undefined
  }
}

}  // namespace

std::vector<InputGrad> Elemwise::L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const {
  const Var z = node.output(0);
  std::vector<InputGrad> res(node.inputs.size(), InputGrad::disconnected());
  if (!is_float(z.dtype()) || !output_grads[0].defined()) return res;  // bool/int outputs carry no gradient
  Var gz = output_grads[0];
  bool zero = false;
  G g = rule(id_, node.inputs, z, gz, zero);
  if (g.empty())
    return std::vector<InputGrad>(node.inputs.size(),
                                  InputGrad::undefined("[" + name() + "] has no gradient implemented"));
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const Var& x = node.inputs[k];
    if (!is_float(x.dtype())) continue;
    if (zero) {
      res[k] = InputGrad::of(zeros_like(x));
    } else if (g[k].defined()) {
      res[k] = InputGrad::of(cast(sum_to_like(g[k], x), x.dtype()));
    }
  }
  return res;
}

std::vector<InputGrad> Cast::L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !is_float(to_) || !output_grads[0].defined()) return {InputGrad::disconnected()};
  return {InputGrad::of(cast(output_grads[0], x.dtype()))};
}

}  // namespace theon
