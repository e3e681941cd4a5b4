// Diagonals: ExtractDiag (a view, numpy.diagonal), AllocDiag (numpy.diag of a vector), trace.
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/linalg.h"
#include "theon/ops/reduce.h"

namespace theon {

namespace {
// Length of diagonal `offset` of a d1 x d2 matrix and where it starts.
int64_t diag_len(int64_t d1, int64_t d2, int offset) {
  return std::max<int64_t>(0, offset >= 0 ? std::min(d1, d2 - offset) : std::min(d1 + offset, d2));
}
}  // namespace

std::string ExtractDiag::props() const {
  return "offset=" + std::to_string(offset_) + ", axis1=" + std::to_string(axis1_) +
         ", axis2=" + std::to_string(axis2_);
}

std::vector<TensorType> ExtractDiag::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1) throw std::invalid_argument("[ExtractDiag] expected 1 input");
  const auto& t = ins[0].type();
  if (t.ndim() < 2)
    throw std::invalid_argument("[ExtractDiag] diag requires an array of at least two dimensions, got " + t.str());
  if (axis1_ < 0 || axis2_ < 0 || axis1_ >= t.ndim() || axis2_ >= t.ndim() || axis1_ == axis2_)
    throw std::invalid_argument("[ExtractDiag] axis1 and axis2 must be distinct axes of " + t.str() + ", got " +
                                std::to_string(axis1_) + " and " + std::to_string(axis2_));
  std::vector<int64_t> s;
  for (int i = 0; i < t.ndim(); ++i)
    if (i != axis1_ && i != axis2_) s.push_back(t.shape[i]);
  int64_t d1 = t.shape[axis1_], d2 = t.shape[axis2_];
  s.push_back(d1 >= 0 && d2 >= 0 ? diag_len(d1, d2, offset_) : kUnknownDim);
  return {TensorType(t.dtype, s)};
}

void ExtractDiag::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  Shape s;
  Strides st;
  for (int i = 0; i < x.ndim(); ++i)
    if (i != axis1_ && i != axis2_) {
      s.push_back(x.shape()[i]);
      st.push_back(x.strides()[i]);
    }
  const int64_t len = diag_len(x.shape()[axis1_], x.shape()[axis2_], offset_);
  s.push_back(len);
  st.push_back(x.strides()[axis1_] + x.strides()[axis2_]);
  int64_t off = x.offset();
  if (len > 0)
    off += offset_ >= 0 ? offset_ * x.strides()[axis2_] : -int64_t(offset_) * x.strides()[axis1_];
  out[0] = Array(x.dtype(), s, st, off, x.buffer());
}

std::optional<ShapeExprs> ExtractDiag::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  std::vector<Var> r;
  for (int i = 0; i < node.inputs[0].ndim(); ++i)
    if (i != axis1_ && i != axis2_) r.push_back(in[0][i]);
  Var off = constant(double(offset_ >= 0 ? offset_ : -offset_), DType::Int64);
  const Var &d1 = in[0][axis1_], &d2 = in[0][axis2_];
  Var len = offset_ >= 0 ? minimum(d1, sub(d2, off)) : minimum(sub(d1, off), d2);
  r.push_back(maximum(len, constant(0.0, DType::Int64)));
  return ShapeExprs{r};
}

std::vector<TensorType> AllocDiag::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1 || ins[0].ndim() != 1)
    throw std::invalid_argument("[AllocDiag] expected one vector, got " +
                                (ins.empty() ? std::string("no input") : ins[0].type().str()));
  int64_t n = ins[0].type().shape[0];
  int64_t d = n >= 0 ? n + std::abs(offset_) : kUnknownDim;
  return {TensorType(ins[0].dtype(), {d, d})};
}

void AllocDiag::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& v = in[0];
  const int64_t n = v.shape()[0], d = n + std::abs(offset_);
  Array r = Array::zeros(v.dtype(), {d, d});
  const int64_t s0 = r.strides()[0], s1 = r.strides()[1];
  const int64_t start = offset_ >= 0 ? offset_ * s1 : -int64_t(offset_) * s0;
  if (n > 0) Array(v.dtype(), {n}, {s0 + s1}, r.offset() + start, r.buffer()).assign(v);
  out[0] = r;
}

std::optional<ShapeExprs> AllocDiag::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  Var d = add(in[0][0], constant(double(std::abs(offset_)), DType::Int64));
  return ShapeExprs{{d, d}};
}

Var extract_diag(const Var& x, int offset, int axis1, int axis2) {
  if (x.ndim() < 2)
    throw std::invalid_argument("[ExtractDiag] diag requires an array of at least two dimensions, got " +
                                x.type().str());
  axis1 = normalize_axis(axis1, x.ndim(), "diagonal");
  axis2 = normalize_axis(axis2, x.ndim(), "diagonal");
  return make1<ExtractDiag>({x}, offset, axis1, axis2);
}

Var alloc_diag(const Var& v, int offset) { return make1<AllocDiag>({v}, offset); }

Var trace(const Var& x, int offset, int axis1, int axis2) {
  return sum(extract_diag(x, offset, axis1, axis2), std::vector<int>{-1});
}

}  // namespace theon
