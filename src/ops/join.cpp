// Join (np.concatenate) and Split, and stack built from Join.
#include "theon/ops/join.h"

#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {

std::string dim_mismatch(const std::string& who, int d, size_t i0, int64_t s0, size_t i1,
                         int64_t s1, const std::string& shape0, const std::string& shape1) {
  return "[" + who +
         "] all input array dimensions except for the concatenation axis must match exactly, but "
         "along dimension " +
         std::to_string(d) + ", the array at index " + std::to_string(i0) + " has size " +
         std::to_string(s0) + " and the array at index " + std::to_string(i1) + " has size " +
         std::to_string(s1) + ": shapes " + shape0 + " and " + shape1;
}

}  // namespace

// ---- Join ----
std::vector<TensorType> Join::infer_type(const std::vector<Var>& ins) const {
  if (ins.empty())
    throw std::invalid_argument("[" + name() + "] need at least one array to concatenate");
  const int nd = ins[0].ndim();
  if (nd == 0)
    throw std::invalid_argument("[" + name() + "] zero-dimensional arrays cannot be concatenated");
  if (axis_ < 0 || axis_ >= nd)
    throw std::invalid_argument("[" + name() + "] axis " + std::to_string(axis_) +
                                " is out of bounds for array of dimension " + std::to_string(nd));
  std::vector<DType> dts;
  for (const auto& v : ins) dts.push_back(v.dtype());
  DType dt = promote_types(dts);
  std::vector<int64_t> out = ins[0].type().shape;
  std::vector<size_t> known_from(nd, 0);  // which input gave out[d]
  for (size_t i = 1; i < ins.size(); ++i) {
    const auto& t = ins[i].type();
    if (t.ndim() != nd)
      throw std::invalid_argument("[" + name() +
                                  "] all the input arrays must have the same number of dimensions, "
                                  "but the array at index 0 has " +
                                  std::to_string(nd) + " dimension(s) and the array at index " +
                                  std::to_string(i) + " has " + std::to_string(t.ndim()) +
                                  " dimension(s): shapes " + static_shape_str(ins[0].type().shape) +
                                  " and " + static_shape_str(t.shape));
    for (int d = 0; d < nd; ++d) {
      if (d == axis_) {
        out[d] = (out[d] == kUnknownDim || t.shape[d] == kUnknownDim) ? kUnknownDim
                                                                      : out[d] + t.shape[d];
      } else if (t.shape[d] != kUnknownDim) {
        if (out[d] == kUnknownDim) {
          out[d] = t.shape[d];
          known_from[d] = i;
        } else if (out[d] != t.shape[d]) {
          size_t j = known_from[d];
          throw std::invalid_argument(dim_mismatch(name(), d, j, out[d], i, t.shape[d],
                                                   static_shape_str(ins[j].type().shape),
                                                   static_shape_str(t.shape)));
        }
      }
    }
  }
  return {TensorType(dt, out)};
}

void Join::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Shape shp = in[0].shape();
  shp[axis_] = 0;
  std::vector<DType> dts;
  for (const auto& a : in) dts.push_back(a.dtype());
  DType dt = promote_types(dts);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].ndim() != int(shp.size()))
      throw std::invalid_argument("[" + name() + "] the array at index " + std::to_string(i) +
                                  " has shape " + shape_str(in[i].shape()) + ", expected " +
                                  std::to_string(shp.size()) + " dimensions like " +
                                  shape_str(in[0].shape()));
    for (int d = 0; d < int(shp.size()); ++d)
      if (d != axis_ && in[i].shape()[d] != shp[d])
        throw std::invalid_argument(dim_mismatch(name(), d, 0, shp[d], i, in[i].shape()[d],
                                                 shape_str(in[0].shape()),
                                                 shape_str(in[i].shape())));
    shp[axis_] += in[i].shape()[axis_];
  }
  Array r = Array::empty(dt, shp);
  int64_t pos = 0;
  for (const auto& a : in) {
    const int64_t n = a.shape()[axis_];
    if (n > 0) r.slice(axis_, pos, pos + n, 1).assign(a);
    pos += n;
  }
  out[0] = r;
}

std::optional<ShapeExprs> Join::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const auto& t = node.outputs[0].type;
  std::vector<Var> r(t.ndim());
  for (int d = 0; d < t.ndim(); ++d) {
    if (t.shape[d] != kUnknownDim) {
      r[d] = constant(double(t.shape[d]), DType::Int64);
    } else if (d == axis_) {
      Var s = in[0][d];
      for (size_t i = 1; i < in.size(); ++i) s = add(s, in[i][d]);
      r[d] = s;
    } else {
      r[d] = in[0][d];
    }
  }
  return ShapeExprs{r};
}

// ---- Split ----
std::string Split::name() const {
  return "Split{n_splits=" + std::to_string(n_) + ", axis=" + std::to_string(axis_) + "}";
}

std::vector<std::pair<int, int>> Split::view_map() const {
  std::vector<std::pair<int, int>> r;
  for (int i = 0; i < n_; ++i) r.push_back({i, 0});
  return r;
}

std::vector<TensorType> Split::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[" + name() + "] expected 2 inputs (x, splits_size), got " +
                                std::to_string(ins.size()));
  const auto& xt = ins[0].type();
  if (n_ < 1)
    throw std::invalid_argument("[" + name() + "] n_splits must be at least 1, got " +
                                std::to_string(n_));
  if (axis_ < 0 || axis_ >= xt.ndim())
    throw std::invalid_argument("[" + name() + "] axis " + std::to_string(axis_) +
                                " is out of bounds for " + xt.str());
  const auto& st = ins[1].type();
  if (st.ndim() != 1 || !is_integer(st.dtype) || (st.shape[0] != kUnknownDim && st.shape[0] != n_))
    throw std::invalid_argument("[" + name() +
                                "] splits_size must be an integer vector of length " +
                                std::to_string(n_) + ", got " + st.str());
  std::vector<TensorType> out(n_, xt);
  for (auto& o : out) o.shape[axis_] = kUnknownDim;
  if (auto sizes = static_int_vector(ins[1])) {
    int64_t total = 0;
    for (int i = 0; i < n_; ++i) {
      if ((*sizes)[i] < 0)
        throw std::invalid_argument("[" + name() + "] split sizes must be non-negative, got " +
                                    shape_str(*sizes));
      out[i].shape[axis_] = (*sizes)[i];
      total += (*sizes)[i];
    }
    if (xt.shape[axis_] != kUnknownDim && total != xt.shape[axis_])
      throw std::invalid_argument("[" + name() + "] the split sizes " + shape_str(*sizes) +
                                  " sum to " + std::to_string(total) + ", but axis " +
                                  std::to_string(axis_) + " of " + xt.str() + " has length " +
                                  std::to_string(xt.shape[axis_]));
  }
  return out;
}

void Split::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  auto sizes = in[1].to_int_vector();
  if (int(sizes.size()) != n_)
    throw std::invalid_argument("[" + name() + "] got " + std::to_string(sizes.size()) +
                                " split sizes, expected " + std::to_string(n_));
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      throw std::invalid_argument("[" + name() + "] split sizes must be non-negative, got " +
                                  shape_str(sizes));
    total += s;
  }
  if (total != x.shape()[axis_])
    throw std::invalid_argument(
        "[" + name() + "] the split sizes " + shape_str(sizes) + " sum to " +
        std::to_string(total) + ", but axis " + std::to_string(axis_) + " of an array of shape " +
        shape_str(x.shape()) + " has length " + std::to_string(x.shape()[axis_]));
  int64_t pos = 0;
  for (int i = 0; i < n_; ++i) {
    out[i] = x.slice(axis_, pos, pos + sizes[i], 1);
    pos += sizes[i];
  }
}

std::optional<ShapeExprs> Split::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  ShapeExprs r;
  const Var& s = node.inputs[1];
  const bool mv = s.owner() && dynamic_cast<const MakeVector*>(s.owner()->op.get());
  for (int i = 0; i < n_; ++i) {
    std::vector<Var> shp = in[0];
    const int64_t known = node.outputs[i].type.shape[axis_];
    if (known != kUnknownDim)
      shp[axis_] = constant(double(known), DType::Int64);
    else if (mv)
      shp[axis_] = cast(s.owner()->inputs[i], DType::Int64);
    else
      shp[axis_] = Var();  // unknown: Shape_i of the output
    r.push_back(shp);
  }
  return r;
}

// ---- free functions ----
Var concatenate(const std::vector<Var>& tensors, int axis) {
  if (tensors.empty())
    throw std::invalid_argument("[concatenate] need at least one array to concatenate");
  const int nd = tensors[0].ndim();
  if (nd == 0)
    throw std::invalid_argument("[concatenate] zero-dimensional arrays cannot be concatenated");
  return make1<Join>(tensors, normalize_axis(axis, nd, "[concatenate]"));
}

Var stack(const std::vector<Var>& tensors, int axis) {
  if (tensors.empty()) throw std::invalid_argument("[stack] need at least one array to stack");
  const auto& t0 = tensors[0].type();
  for (size_t i = 1; i < tensors.size(); ++i) {
    const auto& t = tensors[i].type();
    bool same = t.ndim() == t0.ndim();
    for (int d = 0; same && d < t.ndim(); ++d)
      same = t.shape[d] == kUnknownDim || t0.shape[d] == kUnknownDim || t.shape[d] == t0.shape[d];
    if (!same)
      throw std::invalid_argument(
          "[stack] all input arrays must have the same shape, but the array at index 0 has "
          "shape " +
          static_shape_str(t0.shape) + " and the array at index " + std::to_string(i) +
          " has shape " + static_shape_str(t.shape));
  }
  const int a = normalize_axis(axis, t0.ndim() + 1, "[stack]");
  std::vector<Var> ex;
  for (const auto& t : tensors) ex.push_back(expand_dims(t, a));
  return make1<Join>(ex, a);
}

std::vector<Var> split(const Var& x, const Var& splits_size, int n_splits, int axis) {
  if (x.ndim() == 0)
    throw std::invalid_argument("[split] cannot split a 0-d array " + x.type().str());
  const int a = normalize_axis(axis, x.ndim(), "[split]");
  return apply(std::make_shared<Split>(n_splits, a), {x, splits_size});
}

std::vector<Var> split(const Var& x, const std::vector<int64_t>& splits_size, int axis) {
  Var s = constant(Array::from_vector<int64_t>(splits_size, {int64_t(splits_size.size())}));
  return split(x, s, int(splits_size.size()), axis);
}

}  // namespace theon
