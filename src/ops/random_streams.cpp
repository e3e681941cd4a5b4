// RandomStreams: random variables with states in shared variables, and size/param conversion.
#include <cmath>
#include <stdexcept>

#include "random_internal.h"
#include "theon/config.h"
#include "theon/graph/shared.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/random.h"
#include "theon/ops/shape.h"

namespace theon {

RandomSize::RandomSize() : vec(constant(Array::zeros(DType::Int64, {0}))) {}

RandomSize::RandomSize(std::initializer_list<int64_t> dims)
    : RandomSize(std::vector<int64_t>(dims)) {}

RandomSize::RandomSize(const std::vector<int64_t>& dims) {
  Array a = Array::empty(DType::Int64, {int64_t(dims.size())});
  std::copy(dims.begin(), dims.end(), a.data_as<int64_t>());
  vec = constant(a);
}

RandomSize::RandomSize(const std::vector<Var>& dims) {
  for (const Var& d : dims)
    if (!d.defined() || d.ndim() != 0 || !is_integer(d.dtype()))
      throw std::invalid_argument(
          "[random] size entries must be integer scalars, got " +
          (d.defined() ? d.type().str() : std::string("an undefined variable")));
  vec = dims.empty() ? RandomSize().vec : make_vector(dims);
}

RandomSize::RandomSize(const Var& v) {
  if (!v.defined()) {
    vec = RandomSize().vec;
    return;
  }
  if (!is_integer(v.dtype()) || v.ndim() > 1)
    throw std::invalid_argument("[random] size must be an integer vector or scalar, got " +
                                v.type().str());
  vec = v.ndim() == 0 ? make_vector({v}) : v;
}

namespace {

// A numeric parameter as a constant of `dtype`; integer dtypes need an integral value.
Var param_var(const RandomParam& p, DType dtype, RandomDist dist, const char* what) {
  if (p.is_var()) return p.var;
  if (is_integer(dtype) && p.value != std::floor(p.value))
    throw std::invalid_argument(detail::random_tag(dist) + " " + what +
                                " must be an integer, got " + std::to_string(p.value));
  if (!std::isfinite(p.value) && is_integer(dtype))
    throw std::invalid_argument(detail::random_tag(dist) + " " + what + " must be finite");
  return constant(p.value, dtype);
}

// floatX upcast with the float dtypes of the variable params (Theano's rule).
DType default_float(std::initializer_list<const RandomParam*> ps) {
  DType d = config().floatX;
  for (const RandomParam* p : ps)
    if (p->is_var()) d = promote_types(d, p->var.dtype());
  return is_float(d) ? d : DType::Float64;
}

}  // namespace

RandomStreams::RandomStreams(uint64_t seed) : seed_(seed) {}

Var RandomStreams::make(RandomDist dist, const RandomSize& size, std::vector<Var> params,
                        DType dtype, std::optional<int> ndim, bool replace) {
  Var state = shared(random_state(seed_, updates_.size()), "random_state");
  std::vector<Var> outs = random_variable(dist, state, size.vec, params, dtype, ndim, replace);
  set_default_update(state, outs[0], /*weak=*/true);
  updates_.push_back({state, outs[0]});
  return outs[1];
}

Var RandomStreams::uniform(const RandomSize& size, const RandomParam& low, const RandomParam& high,
                           std::optional<int> ndim, std::optional<DType> dtype) {
  DType d = dtype.value_or(default_float({&low, &high}));
  return make(RandomDist::Uniform, size,
              {param_var(low, d, RandomDist::Uniform, "low"),
               param_var(high, d, RandomDist::Uniform, "high")},
              d, ndim);
}

Var RandomStreams::normal(const RandomSize& size, const RandomParam& avg, const RandomParam& std,
                          std::optional<int> ndim, std::optional<DType> dtype) {
  DType d = dtype.value_or(default_float({&avg, &std}));
  return make(
      RandomDist::Normal, size,
      {param_var(avg, d, RandomDist::Normal, "avg"), param_var(std, d, RandomDist::Normal, "std")},
      d, ndim);
}

Var RandomStreams::binomial(const RandomSize& size, const RandomParam& n, const RandomParam& p,
                            std::optional<int> ndim, DType dtype) {
  return make(RandomDist::Binomial, size,
              {param_var(n, DType::Int64, RandomDist::Binomial, "n"),
               param_var(p, DType::Float64, RandomDist::Binomial, "p")},
              dtype, ndim);
}

Var RandomStreams::random_integers(const RandomSize& size, const RandomParam& low,
                                   const RandomParam& high, std::optional<int> ndim, DType dtype) {
  return make(RandomDist::Integers, size,
              {param_var(low, DType::Int64, RandomDist::Integers, "low"),
               param_var(high, DType::Int64, RandomDist::Integers, "high")},
              dtype, ndim);
}

Var RandomStreams::choice(const RandomSize& size, const RandomParam& a, bool replace, const Var& p,
                          std::optional<int> ndim, DType dtype) {
  std::vector<Var> params{param_var(a, DType::Int64, RandomDist::Choice, "a")};
  if (p.defined()) params.push_back(p);
  return make(RandomDist::Choice, size, params, dtype, ndim, replace);
}

Var RandomStreams::permutation(const RandomSize& size, const RandomParam& n,
                               std::optional<int> ndim, DType dtype) {
  return make(RandomDist::Permutation, size,
              {param_var(n, DType::Int64, RandomDist::Permutation, "n")}, dtype, ndim);
}

void RandomStreams::seed(uint64_t seed) {
  seed_ = seed;
  for (size_t i = 0; i < updates_.size(); ++i)
    set_value(updates_[i].first, random_state(seed, i), true);
}

}  // namespace theon
