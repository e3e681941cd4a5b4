// Shapes as symbolic values, and the view ops DimShuffle and Reshape.
#include "theon/ops/shape.h"

#include <algorithm>
#include <stdexcept>

#include "theon/ops/elemwise.h"

namespace theon {

static void expect_arity(const Op& op, const std::vector<Var>& ins, size_t n) {
  if (ins.size() != n)
    throw std::invalid_argument("[" + op.name() + "] expected " + std::to_string(n) +
                                " input(s), got " + std::to_string(ins.size()));
}

// ---- Shape / Shape_i / MakeVector ----
std::vector<TensorType> ShapeOp::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 1);
  return {TensorType(DType::Int64, {int64_t(ins[0].ndim())})};
}
void ShapeOp::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  out[0] = Array::from_vector<int64_t>(in[0].shape(), {int64_t(in[0].ndim())});
}

std::vector<TensorType> ShapeI::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 1);
  if (i_ < 0 || i_ >= ins[0].ndim())
    throw std::invalid_argument("[Shape_i] dimension " + std::to_string(i_) +
                                " is out of range for " + ins[0].type().str());
  return {TensorType(DType::Int64, {})};
}
void ShapeI::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  out[0] = Array::scalar(DType::Int64, double(in[0].shape()[i_]));
}

std::vector<TensorType> MakeVector::infer_type(const std::vector<Var>& ins) const {
  for (const auto& v : ins)
    if (v.ndim() != 0)
      throw std::invalid_argument("[MakeVector] expected scalars, got " + v.type().str());
  return {TensorType(dtype_, {int64_t(ins.size())})};
}
void MakeVector::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Array r = Array::empty(dtype_, {int64_t(in.size())});
  for (size_t i = 0; i < in.size(); ++i) r.index(0, int64_t(i)).assign(in[i]);
  out[0] = r;
}
std::optional<ShapeExprs> MakeVector::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  return ShapeExprs{{constant(double(node.inputs.size()), DType::Int64)}};
}

std::optional<int64_t> static_int_scalar(const Var& v) {
  if (v.ndim() != 0) return std::nullopt;
  if (v.is_constant()) return v.constant_value().item_int();
  return std::nullopt;
}

std::optional<std::vector<int64_t>> static_int_vector(const Var& v) {
  if (v.is_constant()) return v.constant_value().to_int_vector();
  if (v.owner() && dynamic_cast<const MakeVector*>(v.owner()->op.get())) {
    std::vector<int64_t> r;
    for (const auto& in : v.owner()->inputs) {
      auto s = static_int_scalar(in);
      if (!s) return std::nullopt;
      r.push_back(*s);
    }
    return r;
  }
  return std::nullopt;
}

Var make_vector(const std::vector<Var>& scalars, DType dtype) {
  std::vector<double> vals;
  for (const auto& s : scalars) {
    auto v = static_int_scalar(s);
    if (!v || !is_integer(s.dtype())) break;
    vals.push_back(double(*v));
  }
  if (vals.size() == scalars.size()) {
    Array a = Array::empty(dtype, {int64_t(vals.size())});
    for (size_t i = 0; i < vals.size(); ++i) a.index(0, int64_t(i)).assign(Array::scalar(DType::Float64, vals[i]));
    return constant(a);
  }
  std::vector<Var> ins;
  for (const auto& s : scalars) ins.push_back(cast(s, dtype));
  return make1<MakeVector>(ins, dtype);
}

Var shape_i(const Var& x, int i) {
  i = normalize_axis(i, x.ndim(), "shape_i");
  int64_t s = x.type().shape[i];
  if (s != kUnknownDim) return constant(double(s), DType::Int64);
  if (ApplyNode* node = x.owner()) {
    if (!node->shape_cache && !node->shape_uninferable) {
      ShapeExprs in;
      for (const auto& v : node->inputs) in.push_back(shape_of(v));
      if (auto out = node->op->infer_shape(*node, in)) node->shape_cache = std::make_shared<const ShapeExprs>(*out);
      else node->shape_uninferable = true;
    }
    if (node->shape_cache) {
      const Var& r = (*node->shape_cache)[size_t(x.index())][size_t(i)];
      if (r.defined()) return r;
    }
  }
  return make1<ShapeI>({x}, i);
}

std::vector<Var> shape_of(const Var& x) {
  std::vector<Var> r;
  for (int i = 0; i < x.ndim(); ++i) r.push_back(shape_i(x, i));
  return r;
}

Var shape(const Var& x) { return make_vector(shape_of(x)); }

// ---- DimShuffle ----
DimShuffle::DimShuffle(std::vector<bool> in_bc, std::vector<int> order)
    : in_bc_(std::move(in_bc)), order_(std::move(order)) {}

std::string DimShuffle::name() const {
  std::string s = "DimShuffle{";
  for (size_t i = 0; i < order_.size(); ++i)
    s += (i ? "," : "") + (order_[i] < 0 ? std::string("x") : std::to_string(order_[i]));
  return s + "}";
}
std::string DimShuffle::props() const {
  std::string s;
  for (bool b : in_bc_) s += b ? '1' : '0';
  s += "|";
  for (int o : order_) s += std::to_string(o) + ",";
  return s;
}

std::vector<TensorType> DimShuffle::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 1);
  const auto& t = ins[0].type();
  if (size_t(t.ndim()) != in_bc_.size())
    throw std::invalid_argument("[" + name() + "] expected an input of " +
                                std::to_string(in_bc_.size()) + " dimensions, got " + t.str());
  std::vector<bool> used(t.ndim(), false);
  std::vector<int64_t> shp;
  for (int o : order_) {
    if (o < 0) {
      shp.push_back(1);
      continue;
    }
    if (o >= t.ndim() || used[o])
      throw std::invalid_argument("[" + name() + "] invalid or repeated axis " + std::to_string(o) +
                                  " for input " + t.str());
    used[o] = true;
    shp.push_back(t.shape[o]);
  }
  for (int i = 0; i < t.ndim(); ++i)
    if (!used[i] && t.shape[i] != 1)
      throw std::invalid_argument("[" + name() + "] cannot drop dimension " + std::to_string(i) +
                                  " of " + t.str() + ": it is not known to have length 1");
  return {TensorType(t.dtype, shp)};
}

void DimShuffle::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  Shape s;
  Strides st;
  for (int o : order_) {
    if (o < 0) {
      s.push_back(1);
      st.push_back(0);
    } else {
      s.push_back(x.shape()[o]);
      st.push_back(x.strides()[o]);
    }
  }
  for (int i = 0; i < x.ndim(); ++i)
    if (std::find(order_.begin(), order_.end(), i) == order_.end() && x.shape()[i] != 1)
      throw std::invalid_argument("[" + name() + "] dropped dimension " + std::to_string(i) +
                                  " has length " + std::to_string(x.shape()[i]) + ", expected 1");
  out[0] = Array(x.dtype(), s, st, x.offset(), x.buffer());
}

std::optional<ShapeExprs> DimShuffle::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  std::vector<Var> r;
  for (int o : order_) r.push_back(o < 0 ? constant(1.0, DType::Int64) : in[0][o]);
  return ShapeExprs{r};
}

Var dimshuffle(const Var& x, const std::vector<int>& order) {
  bool identity = int(order.size()) == x.ndim();
  for (size_t i = 0; identity && i < order.size(); ++i) identity = order[i] == int(i);
  if (identity) return x;
  return make1<DimShuffle>({x}, x.type().broadcastable(), order);
}

Var transpose(const Var& x, std::vector<int> axes) {
  if (axes.empty())
    for (int i = x.ndim() - 1; i >= 0; --i) axes.push_back(i);
  if (int(axes.size()) != x.ndim())
    throw std::invalid_argument("[transpose] axes don't match array: got " +
                                std::to_string(axes.size()) + " axes for " + x.type().str());
  for (auto& a : axes) a = normalize_axis(a, x.ndim(), "transpose");
  return dimshuffle(x, axes);
}

Var expand_dims(const Var& x, int axis) {
  axis = normalize_axis(axis, x.ndim() + 1, "expand_dims");
  std::vector<int> order;
  for (int i = 0; i < x.ndim(); ++i) order.push_back(i);
  order.insert(order.begin() + axis, -1);
  return dimshuffle(x, order);
}

Var squeeze(const Var& x, std::vector<int> axes) {
  std::vector<bool> drop(x.ndim(), false);
  if (axes.empty()) {
    for (int i = 0; i < x.ndim(); ++i) drop[i] = x.type().shape[i] == 1;
  } else {
    for (int a : axes) {
      int n = normalize_axis(a, x.ndim(), "squeeze");
      if (x.type().shape[n] != 1 && x.type().shape[n] != kUnknownDim)
        throw std::invalid_argument("[squeeze] cannot select an axis to squeeze out which has size "
                                    "not equal to one: axis " + std::to_string(a) + " of " + x.type().str());
      drop[n] = true;
    }
  }
  // Dims not statically 1 are checked at run time by reshaping.
  std::vector<int> order;
  std::vector<Var> shp;
  bool needs_reshape = false;
  for (int i = 0; i < x.ndim(); ++i) {
    if (!drop[i]) {
      order.push_back(i);
      shp.push_back(shape_i(x, i));
    } else if (x.type().shape[i] != 1) {
      needs_reshape = true;
    }
  }
  if (needs_reshape) return reshape(x, shp);
  return dimshuffle(x, order);
}

// ---- Reshape ----
std::vector<TensorType> Reshape::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 2);
  const Var& s = ins[1];
  if (s.ndim() != 1 || !is_integer(s.dtype()) || (s.type().shape[0] != kUnknownDim && s.type().shape[0] != ndim_))
    throw std::invalid_argument("[Reshape] shape must be an integer vector of length " +
                                std::to_string(ndim_) + ", got " + s.type().str());
  std::vector<int64_t> out(ndim_, kUnknownDim);
  int64_t in_size = 1;
  for (auto d : ins[0].type().shape) in_size = (d == kUnknownDim || in_size == kUnknownDim) ? kUnknownDim : in_size * d;
  if (auto v = static_int_vector(s)) {
    int64_t known = 1;
    int neg = -1;
    for (int i = 0; i < ndim_; ++i) {
      int64_t d = (*v)[i];
      if (d == -1) {
        if (neg >= 0) throw std::invalid_argument("[Reshape] can only specify one unknown dimension");
        neg = i;
      } else if (d < 0) {
        throw std::invalid_argument("[Reshape] negative dimension " + std::to_string(d));
      } else {
        out[i] = d;
        known *= d;
      }
    }
    if (in_size != kUnknownDim) {
      if (neg >= 0 && known != 0 && in_size % known == 0) out[neg] = in_size / known;
      else if ((neg < 0 && known != in_size) || (neg >= 0 && (known == 0 || in_size % known != 0)))
        throw std::invalid_argument("[Reshape] cannot reshape " + ins[0].type().str() +
                                    " (size " + std::to_string(in_size) + ") into shape " +
                                    shape_str(*v));
    }
  } else if (s.owner() && dynamic_cast<const MakeVector*>(s.owner()->op.get())) {
    for (int i = 0; i < ndim_; ++i)
      if (auto d = static_int_scalar(s.owner()->inputs[i]); d && *d >= 0) out[i] = *d;
  }
  return {TensorType(ins[0].dtype(), out)};
}

void Reshape::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  auto shp = in[1].to_int_vector();
  if (int(shp.size()) != ndim_)
    throw std::invalid_argument("[Reshape] shape has " + std::to_string(shp.size()) +
                                " entries, expected " + std::to_string(ndim_));
  out[0] = in[0].reshape(shp);
}

std::optional<ShapeExprs> Reshape::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  const Var& s = node.inputs[1];
  const auto& t = node.outputs[0].type;
  std::vector<Var> r(ndim_);
  bool has_neg = false;
  for (int i = 0; i < ndim_; ++i) {
    if (t.shape[i] != kUnknownDim) r[i] = constant(double(t.shape[i]), DType::Int64);
    else if (s.owner() && dynamic_cast<const MakeVector*>(s.owner()->op.get())) {
      const Var& d = s.owner()->inputs[i];
      auto sd = static_int_scalar(d);
      if (sd && *sd == -1) has_neg = true;
      else r[i] = cast(d, DType::Int64);
    } else {
      return std::nullopt;
    }
  }
  if (has_neg) return std::nullopt;
  return ShapeExprs{r};
}

Var reshape(const Var& x, const Var& shp, int ndim) { return make1<Reshape>({x, shp}, ndim); }

Var reshape(const Var& x, const std::vector<int64_t>& shp) {
  return reshape(x, constant(Array::from_vector<int64_t>(shp, {int64_t(shp.size())})), int(shp.size()));
}

Var reshape(const Var& x, const std::vector<Var>& shp) {
  return reshape(x, make_vector(shp), int(shp.size()));
}

Var flatten(const Var& x, int ndim) {
  if (ndim < 1 || ndim > std::max(1, x.ndim()))
    throw std::invalid_argument("[flatten] ndim must be between 1 and " +
                                std::to_string(std::max(1, x.ndim())) + ", got " + std::to_string(ndim));
  std::vector<Var> shp;
  for (int i = 0; i < ndim - 1; ++i) shp.push_back(shape_i(x, i));
  shp.push_back(constant(-1.0, DType::Int64));
  return reshape(x, shp);
}

}  // namespace theon
