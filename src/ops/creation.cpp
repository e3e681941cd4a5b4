// Creation ops: Alloc/BroadcastTo, Fill, Eye/Tri and Tril/Triu, with the
// free functions built on them (zeros, ones, *_like, identity_like).
// ARange and Linspace live in creation_range.cpp.
#include "theon/ops/creation.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "creation_internal.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"

namespace theon {

namespace {

void expect_int_scalar(const std::string& who, const Var& v, const std::string& what) {
  if (v.ndim() != 0 || !is_integer(v.dtype()))
    throw std::invalid_argument("[" + who + "] " + what + " must be an integer scalar, got " +
                                v.type().str());
}

Var dim_var(const Var& v) {
  return v.is_constant() ? constant(double(v.constant_value().item_int()), DType::Int64)
                         : cast(v, DType::Int64);
}

}  // namespace

namespace detail {

// Runtime shape of Alloc/BroadcastTo from the shape inputs, checked against the value.
Shape alloc_shape(const std::string& who, const std::vector<Array>& in) {
  Shape shp;
  for (size_t i = 1; i < in.size(); ++i) shp.push_back(in[i].item_int());
  for (int64_t d : shp)
    if (d < 0)
      throw std::invalid_argument("[" + who + "] negative dimensions are not allowed: shape " +
                                  shape_str(shp));
  const Array& v = in[0];
  bool ok = v.ndim() <= int(shp.size());
  for (int j = 0; ok && j < v.ndim(); ++j) {
    int64_t o = shp[shp.size() - v.ndim() + j];
    ok = v.shape()[j] == 1 || v.shape()[j] == o;
  }
  if (!ok)
    throw std::invalid_argument("[" + who + "] cannot broadcast a value of shape " +
                                shape_str(v.shape()) + " to shape " + shape_str(shp));
  return shp;
}

}  // namespace detail

// ---- Alloc / BroadcastTo ----
std::vector<TensorType> Alloc::infer_type(const std::vector<Var>& ins) const {
  if (ins.empty())
    throw std::invalid_argument("[" + name() + "] expected a value and a shape, got no inputs");
  const auto& vt = ins[0].type();
  const int nd = int(ins.size()) - 1;
  std::vector<int64_t> out(nd, kUnknownDim);
  for (int i = 0; i < nd; ++i) {
    expect_int_scalar(name(), ins[1 + i], "shape entry " + std::to_string(i));
    if (auto s = static_int_scalar(ins[1 + i])) {
      if (*s < 0)
        throw std::invalid_argument("[" + name() +
                                    "] negative dimensions are not allowed: shape entry " +
                                    std::to_string(i) + " is " + std::to_string(*s));
      out[i] = *s;
    }
  }
  if (vt.ndim() > nd)
    throw std::invalid_argument("[" + name() + "] the value " + vt.str() +
                                " has more dimensions than the shape " + static_shape_str(out));
  const int lead = nd - vt.ndim();
  for (int j = 0; j < vt.ndim(); ++j) {
    int64_t v = vt.shape[j], &o = out[lead + j];
    if (v == kUnknownDim || v == 1) continue;
    if (o == kUnknownDim)
      o = v;
    else if (o != v)
      throw std::invalid_argument("[" + name() + "] cannot broadcast a value of shape " +
                                  static_shape_str(vt.shape) + " to shape " +
                                  static_shape_str(out));
  }
  return {TensorType(vt.dtype, out)};
}

void Alloc::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Array r = Array::empty(in[0].dtype(), detail::alloc_shape(name(), in));
  r.assign(in[0]);
  out[0] = r;
}

void BroadcastTo::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  out[0] = in[0].broadcast_to(detail::alloc_shape(name(), in));
}

std::optional<ShapeExprs> Alloc::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  std::vector<Var> r;
  const auto& t = node.outputs[0].type;
  for (size_t i = 1; i < node.inputs.size(); ++i)
    r.push_back(t.shape[i - 1] != kUnknownDim ? constant(double(t.shape[i - 1]), DType::Int64)
                                              : dim_var(node.inputs[i]));
  return ShapeExprs{r};
}

// ---- Fill ----
std::vector<TensorType> Fill::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[Fill] expected 2 inputs (model, value), got " +
                                std::to_string(ins.size()));
  const auto& a = ins[0].type();
  const auto& b = ins[1].type();
  const int nd = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(nd, 1);
  for (int d = 0; d < nd; ++d) {
    int64_t x = d >= nd - a.ndim() ? a.shape[d - nd + a.ndim()] : 1;
    int64_t y = d >= nd - b.ndim() ? b.shape[d - nd + b.ndim()] : 1;
    if (x != kUnknownDim && y != kUnknownDim && x != 1 && y != 1 && x != y)
      throw std::invalid_argument("[Fill] shapes cannot be broadcast together: model " + a.str() +
                                  " and value " + b.str());
    if (x == 1)
      out[d] = y;
    else if (y == 1)
      out[d] = x;
    else
      out[d] = x != kUnknownDim ? x : y;
  }
  return {TensorType(b.dtype, out)};
}

void Fill::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Shape shp;
  try {
    shp = broadcast_shapes(in[0].shape(), in[1].shape());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("[Fill] ") + e.what());
  }
  Array r = Array::empty(in[1].dtype(), shp);
  r.assign(in[1]);
  out[0] = r;
}

std::optional<ShapeExprs> Fill::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const auto& shp = node.outputs[0].type.shape;
  const int nd = int(shp.size());
  std::vector<Var> r(nd);
  for (int d = 0; d < nd; ++d) {
    if (shp[d] != kUnknownDim) {
      r[d] = constant(double(shp[d]), DType::Int64);
      continue;
    }
    std::vector<Var> cand;
    for (int k = 0; k < 2; ++k) {
      const int lead = nd - node.inputs[k].ndim();
      if (d >= lead && node.inputs[k].type().shape[d - lead] != 1) cand.push_back(in[k][d - lead]);
    }
    // Broadcasting: when one side is 1 the result is the other side.
    r[d] = cand.size() == 1 ? cand[0]
                            : switch_(eq(cand[0], constant(1.0, DType::Int64)), cand[1], cand[0]);
  }
  return ShapeExprs{r};
}

// ---- Eye / Tri ----
std::string Eye::name() const {
  return std::string(tri_ ? "Tri{" : "Eye{") + std::string(dtype_name(dtype_)) + "}";
}

std::vector<TensorType> Eye::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 3)
    throw std::invalid_argument("[" + name() + "] expected 3 inputs (n, m, k), got " +
                                std::to_string(ins.size()));
  static const char* what[] = {"n", "m", "k"};
  for (int i = 0; i < 3; ++i) expect_int_scalar(name(), ins[i], what[i]);
  std::vector<int64_t> out(2, kUnknownDim);
  for (int i = 0; i < 2; ++i)
    if (auto s = static_int_scalar(ins[i])) {
      if (*s < 0)
        throw std::invalid_argument("[" + name() + "] negative dimensions are not allowed: " +
                                    what[i] + " = " + std::to_string(*s));
      out[i] = *s;
    }
  return {TensorType(dtype_, out)};
}

void Eye::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const int64_t n = in[0].item_int(), m = in[1].item_int();
  if (n < 0 || m < 0)
    throw std::invalid_argument("[" + name() + "] negative dimensions are not allowed: (" +
                                std::to_string(n) + ", " + std::to_string(m) + ")");
  // Clamping k does not change the result and keeps i + k from overflowing.
  const int64_t k = std::clamp<int64_t>(in[2].item_int(), -n - 1, m + 1);
  Array r = Array::zeros(dtype_, {n, m});
  visit_dtype(dtype_, [&](auto t) {
    using T = decltype(t);
    const T one = convert<T>(1);
    T* p = r.data_as<T>();
    for (int64_t i = 0; i < n; ++i) {
      if (tri_) {
        for (int64_t j = 0; j < std::min(m, i + k + 1); ++j) p[i * m + j] = one;
      } else if (i + k >= 0 && i + k < m) {
        p[i * m + i + k] = one;
      }
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> Eye::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  return ShapeExprs{{dim_var(node.inputs[0]), dim_var(node.inputs[1])}};
}

// ---- Tril / Triu ----
std::string Tril::name() const {
  return std::string(upper_ ? "Triu" : "Tril") + "{k=" + std::to_string(k_) + "}";
}

std::vector<TensorType> Tril::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1)
    throw std::invalid_argument("[" + name() + "] expected 1 input, got " +
                                std::to_string(ins.size()));
  if (ins[0].ndim() < 2)
    throw std::invalid_argument(
        "[" + name() + "] expected an array of at least 2 dimensions, got " + ins[0].type().str());
  return {ins[0].type()};
}

void Tril::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Array r = in[0].copy();
  const int nd = r.ndim();
  const int64_t rows = r.shape()[nd - 2], cols = r.shape()[nd - 1];
  if (rows * cols == 0) {
    out[0] = r;
    return;
  }
  const int64_t batch = r.size() / (rows * cols);
  const int64_t k = std::clamp<int64_t>(k_, -rows - 1, cols + 1);
  const size_t isz = r.itemsize();
  char* base = static_cast<char*>(r.data());
  // All-zero bytes are zero for every dtype.
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < rows; ++i) {
      char* row = base + ((b * rows + i) * cols) * int64_t(isz);
      if (upper_) {
        int64_t j1 = std::clamp<int64_t>(i + k, 0, cols);
        std::memset(row, 0, size_t(j1) * isz);
      } else {
        int64_t j0 = std::clamp<int64_t>(i + k + 1, 0, cols);
        std::memset(row + j0 * int64_t(isz), 0, size_t(cols - j0) * isz);
      }
    }
  out[0] = r;
}

std::optional<ShapeExprs> Tril::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- free functions ----
Var alloc(const Var& value, const std::vector<Var>& shape) {
  std::vector<Var> ins{value};
  for (const auto& s : shape) ins.push_back(is_integer(s.dtype()) ? dim_var(s) : s);
  return make1<Alloc>(ins);
}

Var alloc(const Var& value, const std::vector<int64_t>& shape) {
  std::vector<Var> s;
  for (int64_t d : shape) s.push_back(constant(double(d), DType::Int64));
  return alloc(value, s);
}

Var fill(const Var& model, const Var& value) {
  return make1<Fill>({model, value});
}

Var zeros(const std::vector<Var>& shape, DType dtype) {
  return alloc(constant(0.0, dtype), shape);
}
Var zeros(const std::vector<int64_t>& shape, DType dtype) {
  return alloc(constant(0.0, dtype), shape);
}
Var ones(const std::vector<Var>& shape, DType dtype) {
  return alloc(constant(1.0, dtype), shape);
}
Var ones(const std::vector<int64_t>& shape, DType dtype) {
  return alloc(constant(1.0, dtype), shape);
}

Var zeros_like(const Var& x, std::optional<DType> dtype) {
  return zeros(shape_of(x), dtype.value_or(x.dtype()));
}
Var ones_like(const Var& x, std::optional<DType> dtype) {
  return ones(shape_of(x), dtype.value_or(x.dtype()));
}

Var full_like(const Var& x, const Var& fill_value, std::optional<DType> dtype) {
  return alloc(cast(fill_value, dtype.value_or(x.dtype())), shape_of(x));
}

static Var eye_or_tri(bool tri, const Var& n, std::optional<Var> m, std::optional<Var> k,
                      DType dtype) {
  std::vector<Var> ins{n, m.value_or(n), k.value_or(constant(0.0, DType::Int64))};
  for (auto& v : ins)
    if (is_integer(v.dtype())) v = dim_var(v);
  return make1<Eye>(ins, dtype, tri);
}

Var eye(const Var& n, std::optional<Var> m, std::optional<Var> k, DType dtype) {
  return eye_or_tri(false, n, std::move(m), std::move(k), dtype);
}

Var eye(int64_t n, std::optional<int64_t> m, int64_t k, DType dtype) {
  return eye(constant(double(n), DType::Int64), constant(double(m.value_or(n)), DType::Int64),
             constant(double(k), DType::Int64), dtype);
}

Var tri(const Var& n, std::optional<Var> m, std::optional<Var> k, DType dtype) {
  return eye_or_tri(true, n, std::move(m), std::move(k), dtype);
}

Var tri(int64_t n, std::optional<int64_t> m, int64_t k, DType dtype) {
  return tri(constant(double(n), DType::Int64), constant(double(m.value_or(n)), DType::Int64),
             constant(double(k), DType::Int64), dtype);
}

Var identity_like(const Var& x) {
  if (x.ndim() != 2)
    throw std::invalid_argument("[identity_like] expected a matrix (2 dimensions), got " +
                                x.type().str());
  return eye(shape_i(x, 0), shape_i(x, 1), constant(0.0, DType::Int64), x.dtype());
}

static Var tril_or_triu(const Var& x, int64_t k, bool upper) {
  const char* who = upper ? "[triu]" : "[tril]";
  if (x.ndim() < 1)
    throw std::invalid_argument(
        std::string(who) + " expected an array of at least 1 dimension, got " + x.type().str());
  if (x.ndim() == 1) {
    // NumPy treats a vector as the rows of an n x n matrix.
    Var n = shape_i(x, 0);
    return make1<Tril>({alloc(x, std::vector<Var>{n, n})}, k, upper);
  }
  return make1<Tril>({x}, k, upper);
}

Var tril(const Var& x, int64_t k) {
  return tril_or_triu(x, k, false);
}
Var triu(const Var& x, int64_t k) {
  return tril_or_triu(x, k, true);
}

}  // namespace theon
