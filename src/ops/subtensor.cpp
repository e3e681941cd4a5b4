// Basic indexing: index items and patterns, the static typing of x[idx] (basic
// and advanced), the Subtensor view op, SliceLength, and subtensor().
#include <algorithm>
#include <stdexcept>

#include "subtensor_impl.h"
#include "theon/ops/shape.h"

namespace theon {

using namespace subtensor_detail;

// ---- items and patterns ----
IndexItem IndexItem::integer(Var v) {
  IndexItem it;
  it.kind = Kind::Int;
  it.value = std::move(v);
  return it;
}
IndexItem IndexItem::integer(int64_t i) { return integer(constant(Array::from_vector<int64_t>({i}))); }
IndexItem IndexItem::slice(Var start, Var stop, Var step) {
  IndexItem it;
  it.kind = Kind::Slice;
  it.start = std::move(start);
  it.stop = std::move(stop);
  it.step = std::move(step);
  return it;
}
IndexItem IndexItem::slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                           std::optional<int64_t> step) {
  auto c = [](std::optional<int64_t> v) {
    return v ? constant(Array::from_vector<int64_t>({*v})) : Var();
  };
  return slice(c(start), c(stop), c(step));
}
IndexItem IndexItem::newaxis() {
  IndexItem it;
  it.kind = Kind::NewAxis;
  return it;
}
IndexItem IndexItem::ellipsis() {
  IndexItem it;
  it.kind = Kind::Ellipsis;
  return it;
}
IndexItem IndexItem::array(Var v) {
  IndexItem it;
  it.kind = Kind::Array;
  it.value = std::move(v);
  return it;
}

int IndexEntry::num_inputs() const {
  switch (kind) {
    case Kind::Int:
    case Kind::Array:
      return 1;
    case Kind::Slice:
      return int(has_start) + int(has_stop) + int(has_step);
    case Kind::NewAxis:
      return 0;
  }
  return 0;
}

std::string pattern_str(const IndexPattern& p) {
  std::string s;
  for (size_t i = 0; i < p.size(); ++i) {
    const IndexEntry& e = p[i];
    if (i) s += ", ";
    switch (e.kind) {
      case IndexEntry::Kind::Int: s += "i"; break;
      case IndexEntry::Kind::NewAxis: s += "None"; break;
      case IndexEntry::Kind::Array: s += "a"; break;
      case IndexEntry::Kind::Slice:
        s += std::string(e.has_start ? "s" : "") + ":" + (e.has_stop ? "s" : "");
        if (e.has_step) s += ":s";
        break;
    }
  }
  return s;
}

bool pattern_is_advanced(const IndexPattern& p) {
  return std::any_of(p.begin(), p.end(), [](const IndexEntry& e) { return e.kind == IndexEntry::Kind::Array; });
}

namespace subtensor_detail {

void index_error(const std::string& who, const std::string& msg) {
  throw std::out_of_range("[" + who + "] " + msg);
}

std::string out_of_bounds_msg(int64_t i, int axis, int64_t size) {
  return "index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
         " with size " + std::to_string(size);
}

namespace {

void check_int_scalar(const std::string& who, const Var& v, const char* what) {
  if (v.ndim() != 0 || !is_integer(v.dtype()))
    throw std::invalid_argument("[" + who + "] " + what + " must be an integer scalar, got " +
                                v.type().str());
}

// Static NumPy broadcast of index shapes (kUnknownDim where unknown).
std::vector<int64_t> broadcast_static(const std::string& who,
                                      const std::vector<std::vector<int64_t>>& shapes) {
  size_t nd = 0;
  for (const auto& s : shapes) nd = std::max(nd, s.size());
  std::vector<int64_t> r(nd, 1);
  std::vector<bool> unknown(nd, false);
  for (const auto& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      size_t j = nd - s.size() + i;
      int64_t d = s[i];
      if (d == kUnknownDim) unknown[j] = true;
      else if (d != 1) {
        if (r[j] != 1 && r[j] != d) {
          std::string all;
          for (const auto& t : shapes) all += (all.empty() ? "" : " ") + shape_str(t);
          index_error(who, "shape mismatch: indexing arrays could not be broadcast together with shapes " + all);
        }
        r[j] = d;
      }
    }
  }
  for (size_t j = 0; j < nd; ++j)
    if (unknown[j] && r[j] == 1) r[j] = kUnknownDim;
  return r;
}

int64_t static_slice_length(const std::string& who, int64_t n, const IndexEntry& e,
                            const std::vector<Var>& ins, size_t k) {
  std::optional<int64_t> start, stop, step;
  bool all_known = true;
  for (auto [has, out, what] : {std::tuple{e.has_start, &start, "slice start"},
                                std::tuple{e.has_stop, &stop, "slice stop"},
                                std::tuple{e.has_step, &step, "slice step"}}) {
    if (!has) continue;
    check_int_scalar(who, ins[k], what);
    *out = static_int_scalar(ins[k++]);
    if (!*out) all_known = false;
  }
  if (step && *step == 0) throw std::invalid_argument("[" + who + "] slice step cannot be zero");
  if (n == 0) return 0;
  if (n == kUnknownDim || !all_known) return kUnknownDim;
  int64_t s0 = start.value_or(0), s1 = stop.value_or(0);
  return normalize_slice(n, &s0, &s1, step.value_or(1), e.has_start, e.has_stop);
}

}  // namespace

TensorType index_result_type(const std::string& who, const TensorType& x, const IndexPattern& p,
                             const std::vector<Var>& ins, size_t first) {
  size_t need = first;
  for (const auto& e : p) need += e.num_inputs();
  if (ins.size() != need)
    throw std::invalid_argument("[" + who + "] expected " + std::to_string(need) + " inputs, got " +
                                std::to_string(ins.size()));
  // How many dims of x the index consumes.
  int consumed = 0;
  for (size_t i = 0, k = first; i < p.size(); k += p[i].num_inputs(), ++i) {
    if (p[i].kind == IndexEntry::Kind::Int || p[i].kind == IndexEntry::Kind::Slice) ++consumed;
    if (p[i].kind == IndexEntry::Kind::Array)
      consumed += ins[k].dtype() == DType::Bool ? ins[k].ndim() : 1;
  }
  if (consumed > x.ndim())
    index_error(who, "too many indices for array: array is " + std::to_string(x.ndim()) +
                         "-dimensional, but " + std::to_string(consumed) + " were indexed");
  const bool adv = pattern_is_advanced(p);
  std::vector<int64_t> vdims;  // the dims of x after slicing, before the arrays apply
  std::vector<bool> vadv;
  std::vector<std::vector<int64_t>> groups;  // static shapes of the advanced indices
  int ax = 0;
  size_t k = first;
  for (const auto& e : p) {
    switch (e.kind) {
      case IndexEntry::Kind::Int: {
        const Var& s = ins[k++];
        check_int_scalar(who, s, "an integer index");
        int64_t n = x.shape[ax];
        if (auto c = static_int_scalar(s); c && n != kUnknownDim && (*c < -n || *c >= n))
          index_error(who, out_of_bounds_msg(*c, ax, n));
        if (adv) {
          vdims.push_back(n);
          vadv.push_back(true);
          groups.push_back({});
        }
        ++ax;
        break;
      }
      case IndexEntry::Kind::Slice:
        vdims.push_back(static_slice_length(who, x.shape[ax], e, ins, k));
        vadv.push_back(false);
        k += e.num_inputs();
        ++ax;
        break;
      case IndexEntry::Kind::NewAxis:
        vdims.push_back(1);
        vadv.push_back(false);
        break;
      case IndexEntry::Kind::Array: {
        const Var& a = ins[k++];
        if (a.dtype() == DType::Bool) {
          int64_t count = 0;
          bool known = a.is_constant();
          if (known)
            for (double v : a.constant_value().to_double_vector()) count += v != 0;
          for (int j = 0; j < a.ndim(); ++j) {
            int64_t n = x.shape[ax + j], m = a.type().shape[j];
            if (n != kUnknownDim && m != kUnknownDim && n != m)
              index_error(who, "boolean index did not match indexed array along axis " +
                                   std::to_string(ax + j) + "; size of axis is " + std::to_string(n) +
                                   " but size of corresponding boolean axis is " + std::to_string(m));
            if (m == 0) known = true;
            vdims.push_back(a.ndim() == 0 ? 1 : n);
            vadv.push_back(true);
          }
          if (a.ndim() == 0) {
            vdims.push_back(1);
            vadv.push_back(true);
          }
          groups.push_back({known ? count : kUnknownDim});
          ax += a.ndim();
        } else if (is_integer(a.dtype())) {
          int64_t n = x.shape[ax];
          if (a.is_constant() && n != kUnknownDim)
            for (int64_t v : a.constant_value().to_int_vector())
              if (v < -n || v >= n) index_error(who, out_of_bounds_msg(v, ax, n));
          vdims.push_back(n);
          vadv.push_back(true);
          groups.push_back(a.type().shape);
          ++ax;
        } else {
          index_error(who, "arrays used as indices must be of integer (or boolean) type, got " +
                               a.type().str());
        }
        break;
      }
    }
  }
  for (; ax < x.ndim(); ++ax) {
    vdims.push_back(x.shape[ax]);
    vadv.push_back(false);
  }
  if (!adv) return TensorType(x.dtype, vdims);
  std::vector<int64_t> b = broadcast_static(who, groups);
  int first_adv = -1, last_adv = -1, n_adv = 0;
  for (int i = 0; i < int(vadv.size()); ++i)
    if (vadv[i]) {
      if (first_adv < 0) first_adv = i;
      last_adv = i;
      ++n_adv;
    }
  const bool together = last_adv - first_adv + 1 == n_adv;
  std::vector<int64_t> out;
  for (int i = 0; i < int(vdims.size()); ++i) {
    if (i == first_adv && together) out.insert(out.end(), b.begin(), b.end());
    if (!vadv[i]) out.push_back(vdims[i]);
  }
  if (!together) out.insert(out.begin(), b.begin(), b.end());
  return TensorType(x.dtype, out);
}

Array basic_view(const std::string& who, const Array& x, const IndexPattern& p,
                 const std::vector<Array>& ins, size_t first) {
  Shape shape;
  Strides strides;
  int64_t offset = x.offset();
  size_t k = first;
  int ax = 0;
  for (const auto& e : p) {
    if (e.kind == IndexEntry::Kind::NewAxis) {
      shape.push_back(1);
      strides.push_back(0);
      continue;
    }
    if (ax >= x.ndim())
      index_error(who, "too many indices for array: array is " + std::to_string(x.ndim()) + "-dimensional");
    const int64_t n = x.shape()[ax], st = x.strides()[ax];
    if (e.kind == IndexEntry::Kind::Int) {
      int64_t i = ins[k++].item_int();
      if (i < -n || i >= n) index_error(who, out_of_bounds_msg(i, ax, n));
      offset += (i < 0 ? i + n : i) * st;
    } else if (e.kind == IndexEntry::Kind::Slice) {
      int64_t start = e.has_start ? ins[k++].item_int() : 0;
      int64_t stop = e.has_stop ? ins[k++].item_int() : 0;
      int64_t step = e.has_step ? ins[k++].item_int() : 1;
      if (step == 0) throw std::invalid_argument("[" + who + "] slice step cannot be zero");
      int64_t len = normalize_slice(n, &start, &stop, step, e.has_start, e.has_stop);
      if (len > 0) offset += start * st;
      shape.push_back(len);
      strides.push_back(st * step);
    } else {
      throw std::invalid_argument("[" + who + "] array index in a basic index");
    }
    ++ax;
  }
  for (; ax < x.ndim(); ++ax) {
    shape.push_back(x.shape()[ax]);
    strides.push_back(x.strides()[ax]);
  }
  return Array(x.dtype(), shape, strides, offset, x.buffer());
}

}  // namespace subtensor_detail

// ---- Subtensor ----
std::vector<TensorType> Subtensor::infer_type(const std::vector<Var>& ins) const {
  if (ins.empty()) throw std::invalid_argument("[" + name() + "] expected an input to index");
  if (pattern_is_advanced(p_))
    throw std::invalid_argument("[" + name() + "] array indices need AdvancedSubtensor");
  return {index_result_type(name(), ins[0].type(), p_, ins, 1)};
}

void Subtensor::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  out[0] = basic_view(name(), in[0], p_, in, 1);
}

std::optional<ShapeExprs> Subtensor::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return ShapeExprs{index_result_shape(node, in, p_, 1, node.outputs[0].type)};
}

// ---- SliceLength ----
std::vector<TensorType> SliceLength::infer_type(const std::vector<Var>& ins) const {
  if (int(ins.size()) != 1 + e_.num_inputs())
    throw std::invalid_argument("[" + name() + "] expected " + std::to_string(1 + e_.num_inputs()) +
                                " inputs, got " + std::to_string(ins.size()));
  for (const auto& v : ins)
    if (v.ndim() != 0 || !is_integer(v.dtype()))
      throw std::invalid_argument("[" + name() + "] expected integer scalars, got " + v.type().str());
  return {TensorType(DType::Int64, {})};
}

void SliceLength::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  size_t k = 1;
  int64_t start = e_.has_start ? in[k++].item_int() : 0;
  int64_t stop = e_.has_stop ? in[k++].item_int() : 0;
  int64_t step = e_.has_step ? in[k++].item_int() : 1;
  if (step == 0) throw std::invalid_argument("[" + name() + "] slice step cannot be zero");
  int64_t len = normalize_slice(in[0].item_int(), &start, &stop, step, e_.has_start, e_.has_stop);
  out[0] = Array::scalar(DType::Int64, double(len));
}

// ---- building x[idx] ----
namespace {

// Expands Ellipsis, turns items into a pattern and the op inputs after x.
std::pair<IndexPattern, std::vector<Var>> build_pattern(const std::string& who, const Var& x,
                                                        const Index& idx) {
  int consumed = 0, ellipses = 0;
  for (const auto& it : idx) {
    if ((it.kind == IndexItem::Kind::Int || it.kind == IndexItem::Kind::Array) && !it.value.defined())
      throw std::invalid_argument("[" + who + "] an index item has no value");
    if (it.kind == IndexItem::Kind::Ellipsis) ++ellipses;
    else if (it.kind == IndexItem::Kind::Int || it.kind == IndexItem::Kind::Slice) ++consumed;
    else if (it.kind == IndexItem::Kind::Array)
      consumed += it.value.dtype() == DType::Bool ? it.value.ndim() : 1;
  }
  if (ellipses > 1) index_error(who, "an index can only have a single ellipsis ('...')");
  IndexPattern p;
  std::vector<Var> ins;
  for (const auto& it : idx) {
    switch (it.kind) {
      case IndexItem::Kind::Ellipsis:
        for (int i = consumed; i < x.ndim(); ++i) p.push_back(IndexEntry{});
        break;
      case IndexItem::Kind::NewAxis:
        p.push_back(IndexEntry{IndexEntry::Kind::NewAxis});
        break;
      case IndexItem::Kind::Int:
        // A boolean scalar is a 0-d mask, as in NumPy.
        p.push_back(IndexEntry{it.value.dtype() == DType::Bool ? IndexEntry::Kind::Array
                                                                : IndexEntry::Kind::Int});
        ins.push_back(it.value);
        break;
      case IndexItem::Kind::Array:
        p.push_back(IndexEntry{IndexEntry::Kind::Array});
        ins.push_back(it.value);
        break;
      case IndexItem::Kind::Slice: {
        IndexEntry e{IndexEntry::Kind::Slice, it.start.defined(), it.stop.defined(), it.step.defined()};
        for (const Var* v : {&it.start, &it.stop, &it.step})
          if (v->defined()) ins.push_back(*v);
        p.push_back(e);
        break;
      }
    }
  }
  return {p, ins};
}

}  // namespace

Var subtensor(const Var& x, const Index& idx) {
  if (!x.defined()) throw std::invalid_argument("[Subtensor] the indexed variable is undefined");
  // x.shape[i] on a MakeVector: the element itself.
  if (x.owner() && idx.size() == 1 && idx[0].kind == IndexItem::Kind::Int && idx[0].value.defined() &&
      dynamic_cast<const MakeVector*>(x.owner()->op.get())) {
    if (auto i = static_int_scalar(idx[0].value); i && is_integer(idx[0].value.dtype())) {
      int64_t n = int64_t(x.owner()->inputs.size());
      if (*i < -n || *i >= n) index_error("Subtensor", out_of_bounds_msg(*i, 0, n));
      return x.owner()->inputs[*i < 0 ? *i + n : *i];
    }
  }
  auto [p, ins] = build_pattern("Subtensor", x, idx);
  ins.insert(ins.begin(), x);
  if (pattern_is_advanced(p)) return make1<AdvancedSubtensor>(ins, p);
  return make1<Subtensor>(ins, p);
}

}  // namespace theon
