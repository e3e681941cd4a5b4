// RandomOp: type inference, validation and graph building (sampling is in random_sample.cpp).
#include "theon/ops/random.h"

#include <stdexcept>

#include "random_internal.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

const char* random_dist_name(RandomDist d) {
  switch (d) {
    case RandomDist::Uniform:
      return "uniform";
    case RandomDist::Normal:
      return "normal";
    case RandomDist::Binomial:
      return "binomial";
    case RandomDist::Integers:
      return "random_integers";
    case RandomDist::Choice:
      return "choice";
    case RandomDist::Permutation:
      return "permutation";
  }
  return "?";
}

namespace {
const char* param_name(RandomDist d, int i) {
  static const char* names[6][2] = {{"low", "high"}, {"avg", "std"}, {"n", "p"},
                                    {"low", "high"}, {"a", "p"},     {"n", ""}};
  return names[int(d)][i];
}

bool broadcasts_param(RandomDist d) {
  return d == RandomDist::Uniform || d == RandomDist::Normal || d == RandomDist::Binomial ||
         d == RandomDist::Integers;
}

}  // namespace

RandomOp::RandomOp(RandomDist dist, DType dtype, int ndim, bool replace, bool has_p)
    : dist_(dist), dtype_(dtype), ndim_(ndim), replace_(replace), has_p_(has_p) {
  if (dist != RandomDist::Choice) replace_ = true, has_p_ = false;
}

std::string RandomOp::tag() const {
  return detail::random_tag(dist_);
}

std::string RandomOp::name() const {
  std::string s = std::string("RandomOp{") + random_dist_name(dist_) + ", " +
                  std::string(dtype_name(dtype_)) + ", ndim=" + std::to_string(ndim_);
  if (dist_ == RandomDist::Choice) s += replace_ ? ", replace" : ", no replace";
  return s + "}";
}

std::string RandomOp::props() const {
  return std::string(random_dist_name(dist_)) + "|" + std::string(dtype_name(dtype_)) + "|" +
         std::to_string(ndim_) + "|" + (replace_ ? "1" : "0") + (has_p_ ? "1" : "0");
}

int RandomOp::num_params() const {
  switch (dist_) {
    case RandomDist::Choice:
      return has_p_ ? 2 : 1;
    case RandomDist::Permutation:
      return 1;
    default:
      return 2;
  }
}

std::vector<TensorType> RandomOp::infer_type(const std::vector<Var>& ins) const {
  const std::string t = tag();
  const int np = num_params();
  if (int(ins.size()) != 2 + np)
    throw std::invalid_argument(t + " expected " + std::to_string(2 + np) +
                                " inputs (state, size, " + std::to_string(np) +
                                " parameter(s)), got " + std::to_string(ins.size()));
  const TensorType& st = ins[0].type();
  if (st.dtype != DType::UInt64 || st.ndim() != 1 ||
      (st.shape[0] != kUnknownDim && st.shape[0] != 2))
    throw std::invalid_argument(
        t + " expected a random state of type uint64 vector of length 2, got " + st.str());
  const TensorType& sz = ins[1].type();
  if (!is_integer(sz.dtype) || sz.ndim() != 1)
    throw std::invalid_argument(t + " expected size to be an integer vector, got " + sz.str());
  if (ndim_ < 0)
    throw std::invalid_argument(t + " ndim must be non-negative, got " + std::to_string(ndim_));

  // Parameter dtypes and ranks.
  for (int i = 0; i < np; ++i) {
    const Var& p = ins[2 + i];
    DType d = p.dtype();
    std::string what = t + " parameter " + param_name(dist_, i) + ": ";
    bool int_param = (dist_ == RandomDist::Binomial && i == 0) || dist_ == RandomDist::Integers ||
                     dist_ == RandomDist::Permutation ||
                     (dist_ == RandomDist::Choice && i == 0 && p.ndim() == 0);
    if (int_param && !is_integer(d))
      throw std::invalid_argument(what + "expected an integer dtype, got " +
                                  std::string(dtype_name(d)));
    if (!int_param && d == DType::Bool && dist_ != RandomDist::Choice)
      throw std::invalid_argument(what + "expected a numeric dtype, got bool");
    if (dist_ == RandomDist::Choice && i == 1 && (!is_float(d) || p.ndim() != 1))
      throw std::invalid_argument(what + "expected a float vector of probabilities, got " +
                                  p.type().str());
    if (dist_ == RandomDist::Choice && i == 0 && p.ndim() > 1)
      throw std::invalid_argument(what + "expected a scalar or a vector, got " + p.type().str());
    if (dist_ == RandomDist::Permutation && p.ndim() != 0)
      throw std::invalid_argument(what + "expected an integer scalar, got " + p.type().str());
  }
  if ((dist_ == RandomDist::Uniform || dist_ == RandomDist::Normal) && !is_float(dtype_))
    throw std::invalid_argument(t + " dtype must be a float dtype, got " +
                                std::string(dtype_name(dtype_)));
  if ((dist_ == RandomDist::Integers || dist_ == RandomDist::Permutation) && dtype_ == DType::Bool)
    throw std::invalid_argument(t + " dtype must be numeric, got bool");

  // Output shape.
  const int64_t len = sz.shape[0];
  const int expected_ndim = dist_ == RandomDist::Permutation ? ndim_ - 1 : ndim_;
  if (len != kUnknownDim && len != expected_ndim && !(len == 0 && broadcasts_param(dist_)))
    throw std::invalid_argument(t + " size of length " + std::to_string(len) + " gives " +
                                std::to_string(len + (dist_ == RandomDist::Permutation)) +
                                " dimensions, but ndim=" + std::to_string(ndim_));
  std::vector<int64_t> out(std::max(expected_ndim, 0), kUnknownDim);
  if (expected_ndim < 0)
    throw std::invalid_argument(t + " ndim must be at least 1 for a permutation");
  if (auto s = static_int_vector(ins[1])) {
    for (int64_t v : *s)
      if (v < 0)
        throw std::invalid_argument(t + " size must be non-negative, got " + shape_str(*s));
    if (!s->empty()) out = *s;
  } else if (ApplyNode* owner = ins[1].owner(); owner && len == expected_ndim) {
    if (dynamic_cast<const MakeVector*>(owner->op.get()))
      for (int i = 0; i < expected_ndim; ++i)
        if (auto v = static_int_scalar(owner->inputs[i])) {
          if (*v < 0)
            throw std::invalid_argument(t + " size must be non-negative, got " +
                                        std::to_string(*v));
          out[i] = *v;
        }
  }
  if (broadcasts_param(dist_)) {
    bool from_params = len == 0;
    if (from_params) out.assign(ndim_, 1);
    for (int i = 0; i < np; ++i) {
      const TensorType& pt = ins[2 + i].type();
      if (pt.ndim() > ndim_)
        throw std::invalid_argument(t + " parameter " + param_name(dist_, i) + " has " +
                                    std::to_string(pt.ndim()) + " dimensions, more than the " +
                                    std::to_string(ndim_) + " of the sample");
      for (int k = 0; k < pt.ndim(); ++k) {
        int64_t pd = pt.shape[k];
        int64_t& od = out[ndim_ - pt.ndim() + k];
        if (from_params) {
          if (pd == 1) continue;
          if (pd == kUnknownDim) {
            if (od == 1) od = kUnknownDim;
          } else if (od == 1 || od == kUnknownDim) {
            od = pd;
          } else if (od != pd) {
            throw std::invalid_argument(
                t + " parameter shapes do not broadcast together: " + param_name(dist_, i) +
                " has shape " + static_shape_str(pt.shape));
          }
        } else if (pd != kUnknownDim && pd != 1 && od != kUnknownDim && pd != od) {
          throw std::invalid_argument(t + " parameter " + param_name(dist_, i) + " of shape " +
                                      static_shape_str(pt.shape) + " cannot be broadcast to size " +
                                      static_shape_str(out));
        }
      }
    }
    if (from_params && ndim_ > 0) {
      int maxnd = 0;
      for (int i = 0; i < np; ++i) maxnd = std::max(maxnd, ins[2 + i].ndim());
      if (maxnd != ndim_)
        throw std::invalid_argument(
            t + " with an empty size the sample takes the shape of the parameters (" +
            std::to_string(maxnd) + " dimensions), but ndim=" + std::to_string(ndim_));
    }
  }
  if (dist_ == RandomDist::Permutation) {
    auto n = static_int_scalar(ins[2]);
    out.push_back(n && *n >= 0 ? *n : kUnknownDim);
  }

  // Constant parameters are checked now rather than at the first call.
  std::vector<std::optional<Array>> consts;
  for (int i = 0; i < np; ++i)
    consts.push_back(ins[2 + i].is_constant() ? std::optional<Array>(ins[2 + i].constant_value())
                                              : std::nullopt);
  std::optional<int64_t> nsamples = int64_t(1);
  for (int64_t d : out)
    nsamples = d == kUnknownDim || !nsamples ? std::nullopt : std::optional<int64_t>(*nsamples * d);
  detail::check_random_params(dist_, dtype_, replace_, consts, nsamples, t);
  return {TensorType(DType::UInt64, {2}), TensorType(dtype_, out)};
}

std::optional<ShapeExprs> RandomOp::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  std::vector<Var> dims(node.outputs[1].type.ndim());
  ApplyNode* owner = node.inputs[1].owner();
  int nsize = dist_ == RandomDist::Permutation ? ndim_ - 1 : ndim_;
  if (owner && dynamic_cast<const MakeVector*>(owner->op.get()) &&
      int(owner->inputs.size()) == nsize)
    for (int i = 0; i < nsize; ++i) dims[i] = owner->inputs[i];
  if (dist_ == RandomDist::Permutation) dims.back() = cast(node.inputs[2], DType::Int64);
  ShapeExprs r(2);
  r[0].push_back(constant(2.0, DType::Int64));
  r[1] = std::move(dims);
  return r;
}

std::vector<InputGrad> RandomOp::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  std::vector<InputGrad> r{InputGrad::disconnected(), InputGrad::disconnected()};
  for (size_t i = 2; i < node.inputs.size(); ++i)
    r.push_back(InputGrad::undefined(tag() +
                                     " no gradient is defined through random draws (parameter " +
                                     param_name(dist_, int(i) - 2) + ")"));
  return r;
}

std::vector<Var> random_variable(RandomDist dist, const Var& state, const Var& size,
                                 const std::vector<Var>& params, DType dtype,
                                 std::optional<int> ndim, bool replace) {
  const std::string t = detail::random_tag(dist);
  if (!state.defined() || !size.defined())
    throw std::invalid_argument(t + " state and size must be defined");
  for (const Var& p : params)
    if (!p.defined()) throw std::invalid_argument(t + " a parameter is undefined");
  if (size.ndim() != 1 || !is_integer(size.dtype()))
    throw std::invalid_argument(t + " expected size to be an integer vector, got " +
                                size.type().str());
  int64_t len = size.type().shape[0];
  int extra = dist == RandomDist::Permutation ? 1 : 0;
  int inferred;
  if (len == kUnknownDim) {
    if (!ndim)
      throw std::invalid_argument(t + " the length of size " + size.type().str() +
                                  " is not known statically; pass ndim");
    inferred = *ndim;
  } else if (len == 0 && broadcasts_param(dist)) {
    inferred = 0;
    for (const Var& p : params) inferred = std::max(inferred, p.ndim());
  } else {
    inferred = int(len) + extra;
  }
  if (ndim && *ndim != inferred)
    throw std::invalid_argument(t + " ndim=" + std::to_string(*ndim) + " does not match the " +
                                std::to_string(inferred) + " dimensions given by size (length " +
                                (len == kUnknownDim ? std::string("?") : std::to_string(len)) +
                                ")");
  bool has_p = dist == RandomDist::Choice && params.size() == 2;
  std::vector<Var> ins{state, size};
  ins.insert(ins.end(), params.begin(), params.end());
  return theon::apply(std::make_shared<RandomOp>(dist, dtype, inferred, replace, has_p), ins);
}

}  // namespace theon
