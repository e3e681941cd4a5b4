// Advanced indexing: the runtime plan of an index with integer or boolean
// arrays (NumPy's rules), the gather and scatter loops, and AdvancedSubtensor.
#include <cstring>
#include <stdexcept>

#include "subtensor_impl.h"
#include "theon/runtime/strided.h"

namespace theon {

using namespace subtensor_detail;

namespace subtensor_detail {

namespace {

// Normalises an integer index array against a dim of length n (a new int64 array).
Array normalize_indices(const std::string& who, const Array& a, int axis, int64_t n) {
  Array r = a.astype(DType::Int64);
  int64_t* p = r.data_as<int64_t>();
  const bool from_u64 = a.dtype() == DType::UInt64;
  for (int64_t i = 0, m = r.size(); i < m; ++i) {
    int64_t v = p[i];
    if (from_u64 && v < 0) index_error(who, "index " + std::to_string(uint64_t(v)) +
                                                 " is out of bounds for axis " + std::to_string(axis) +
                                                 " with size " + std::to_string(n));
    if (v < -n || v >= n) index_error(who, out_of_bounds_msg(v, axis, n));
    if (v < 0) p[i] = v + n;
  }
  return r;
}

// The coordinates of the true elements of a boolean mask, one int64 vector per dim.
std::vector<Array> nonzero(const Array& mask) {
  Array c = mask.contiguous(DType::Bool);
  const bool* b = c.data_as<bool>();
  int64_t count = 0;
  for (int64_t i = 0, n = c.size(); i < n; ++i) count += b[i];
  std::vector<Array> r;
  for (int d = 0; d < c.ndim(); ++d) r.push_back(Array::empty(DType::Int64, {count}));
  int64_t j = 0;
  for (int64_t i = 0, n = c.size(); i < n; ++i) {
    if (!b[i]) continue;
    int64_t rem = i;
    for (int d = c.ndim() - 1; d >= 0; --d) {
      r[d].data_as<int64_t>()[j] = rem % c.shape()[d];
      rem /= c.shape()[d];
    }
    ++j;
  }
  return r;
}

// Calls block(v_ptr, w_ptr) for every position of the broadcast index shape:
// v_ptr is the indexed element of plan.v, w_ptr the matching position of w
// (an array whose dims are the bshape dims followed by the rest dims).
template <class Block>
void adv_loop(const AdvPlan& p, const Array& w, Block&& block) {
  const int nb = int(p.bshape.size());
  const int64_t total = shape_size(p.bshape);
  std::vector<const int64_t*> ip;
  std::vector<int64_t> vst;
  for (size_t k = 0; k < p.idx.size(); ++k) {
    ip.push_back(p.idx[k].data_as<int64_t>());
    vst.push_back(p.v.strides()[p.adv_dims[k]]);
  }
  char* vbase = static_cast<char*>(p.v.data());
  char* wbase = static_cast<char*>(w.data());
  std::vector<int64_t> mi(nb, 0);
  int64_t woff = 0;
  for (int64_t b = 0; b < total; ++b) {
    int64_t voff = 0;
    for (size_t k = 0; k < ip.size(); ++k) voff += ip[k][b] * vst[k];
    block(vbase + voff, wbase + woff);
    for (int d = nb - 1; d >= 0; --d) {
      woff += w.strides()[d];
      if (++mi[d] < p.bshape[d]) break;
      woff -= w.strides()[d] * p.bshape[d];
      mi[d] = 0;
    }
  }
}

// `a` (with the plan's out_shape) with its bshape dims moved first.
Array bshape_first(const AdvPlan& p, const Array& a) {
  const int nb = int(p.bshape.size()), nr = int(p.rest_dims.size());
  std::vector<int> perm;
  for (int i = 0; i < nb; ++i) perm.push_back(p.insert_at + i);
  for (int i = 0; i < nr; ++i) perm.push_back(i < p.insert_at ? i : i + nb);
  return a.transpose(perm);
}

template <class T>
T add_values(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a || b;
  else if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>)
    return T(float(a) + float(b));
  else return static_cast<T>(a + b);
}

}  // namespace

Shape broadcast_index_shapes(const std::string& who, const std::vector<Shape>& shapes) {
  size_t nd = 0;
  for (const Shape& s : shapes) nd = std::max(nd, s.size());
  Shape b(nd, 1);
  for (const Shape& sh : shapes)
    for (size_t i = 0; i < sh.size(); ++i) {
      int64_t& d = b[nd - sh.size() + i];
      const int64_t s = sh[i];
      if (s != 1 && d != 1 && s != d) {
        std::string all;
        for (const Shape& o : shapes) all += (all.empty() ? "" : " ") + shape_str(o);
        index_error(who, "shape mismatch: indexing arrays could not be broadcast together with shapes " + all);
      }
      if (s != 1) d = s;
    }
  return b;
}

void place_index_dims(int ndim, const std::vector<int>& adv_dims, std::vector<int>& rest_dims,
                      int& insert_at) {
  const int first_adv = adv_dims.front(), last_adv = adv_dims.back();
  const bool together = last_adv - first_adv + 1 == int(adv_dims.size());
  size_t a = 0;
  for (int d = 0; d < ndim; ++d) {
    if (a < adv_dims.size() && adv_dims[a] == d) {
      ++a;
      continue;
    }
    if (together && d < first_adv) ++insert_at;
    rest_dims.push_back(d);
  }
}

AdvPlan make_adv_plan(const std::string& who, const Array& x, const IndexPattern& p,
                      const std::vector<Array>& ins, size_t first) {
  AdvPlan plan;
  Shape shape;
  Strides strides;
  std::vector<Array> raw;  // index arrays before broadcasting, aligned with adv_dims
  int64_t offset = x.offset();
  size_t k = first;
  int ax = 0;
  auto need_axes = [&](int m) {
    if (ax + m > x.ndim())
      index_error(who, "too many indices for array: array is " + std::to_string(x.ndim()) + "-dimensional");
  };
  for (const auto& e : p) {
    switch (e.kind) {
      case IndexEntry::Kind::NewAxis:
        shape.push_back(1);
        strides.push_back(0);
        break;
      case IndexEntry::Kind::Int: {
        need_axes(1);
        int64_t i = ins[k++].item_int(), n = x.shape()[ax];
        if (i < -n || i >= n) index_error(who, out_of_bounds_msg(i, ax, n));
        plan.adv_dims.push_back(int(shape.size()));
        raw.push_back(Array::scalar(DType::Int64, double(i < 0 ? i + n : i)));
        shape.push_back(n);
        strides.push_back(x.strides()[ax++]);
        break;
      }
      case IndexEntry::Kind::Slice: {
        need_axes(1);
        const int64_t n = x.shape()[ax], st = x.strides()[ax];
        int64_t start = e.has_start ? ins[k++].item_int() : 0;
        int64_t stop = e.has_stop ? ins[k++].item_int() : 0;
        int64_t step = e.has_step ? ins[k++].item_int() : 1;
        if (step == 0) throw std::invalid_argument("[" + who + "] slice step cannot be zero");
        int64_t len = normalize_slice(n, &start, &stop, step, e.has_start, e.has_stop);
        if (len > 0) offset += start * st;
        shape.push_back(len);
        strides.push_back(st * step);
        ++ax;
        break;
      }
      case IndexEntry::Kind::Array: {
        const Array& a = ins[k++];
        if (a.dtype() == DType::Bool && a.ndim() == 0) {
          plan.adv_dims.push_back(int(shape.size()));
          raw.push_back(Array::zeros(DType::Int64, {a.item_int() != 0 ? 1 : 0}));
          shape.push_back(1);
          strides.push_back(0);
        } else if (a.dtype() == DType::Bool) {
          need_axes(a.ndim());
          for (int j = 0; j < a.ndim(); ++j)
            if (a.shape()[j] != x.shape()[ax + j])
              index_error(who, "boolean index did not match indexed array along axis " +
                                   std::to_string(ax + j) + "; size of axis is " +
                                   std::to_string(x.shape()[ax + j]) +
                                   " but size of corresponding boolean axis is " +
                                   std::to_string(a.shape()[j]));
          for (Array& c : nonzero(a)) {
            plan.adv_dims.push_back(int(shape.size()));
            raw.push_back(c);
            shape.push_back(x.shape()[ax]);
            strides.push_back(x.strides()[ax++]);
          }
        } else if (is_integer(a.dtype())) {
          need_axes(1);
          plan.adv_dims.push_back(int(shape.size()));
          raw.push_back(normalize_indices(who, a, ax, x.shape()[ax]));
          shape.push_back(x.shape()[ax]);
          strides.push_back(x.strides()[ax++]);
        } else {
          index_error(who, "arrays used as indices must be of integer (or boolean) type, got " +
                               std::string(dtype_name(a.dtype())));
        }
        break;
      }
    }
  }
  for (; ax < x.ndim(); ++ax) {
    shape.push_back(x.shape()[ax]);
    strides.push_back(x.strides()[ax]);
  }
  plan.v = Array(x.dtype(), shape, strides, offset, x.buffer());
  // Broadcast the index arrays together.
  std::vector<Shape> shapes;
  for (const auto& a : raw) shapes.push_back(a.shape());
  plan.bshape = broadcast_index_shapes(who, shapes);
  for (const auto& a : raw) plan.idx.push_back(a.broadcast_to(plan.bshape).contiguous());
  place_index_dims(plan.v.ndim(), plan.adv_dims, plan.rest_dims, plan.insert_at);
  for (int64_t r : plan.rest_dims) plan.out_shape.push_back(plan.v.shape()[r]);
  plan.out_shape.insert(plan.out_shape.begin() + plan.insert_at, plan.bshape.begin(), plan.bshape.end());
  return plan;
}

Array adv_gather(const AdvPlan& p) {
  Array out = Array::empty(p.v.dtype(), p.out_shape);
  if (out.size() == 0) return out;
  Array w = bshape_first(p, out);
  Shape rest_shape;
  Strides vrest, wrest;
  for (size_t i = 0; i < p.rest_dims.size(); ++i) {
    rest_shape.push_back(p.v.shape()[p.rest_dims[i]]);
    vrest.push_back(p.v.strides()[p.rest_dims[i]]);
    wrest.push_back(w.strides()[p.bshape.size() + i]);
  }
  visit_dtype(p.v.dtype(), [&](auto t) {
    using T = decltype(t);
    if (rest_shape.empty()) {
      adv_loop(p, w, [](char* vp, char* wp) { std::memcpy(wp, vp, sizeof(T)); });
      return;
    }
    adv_loop(p, w, [&](char* vp, char* wp) {
      for_each_strided<2>(rest_shape, {wp, vp}, {&wrest, &vrest}, [](auto ptr, auto st, int64_t n) {
        for (int64_t i = 0; i < n; ++i) std::memcpy(ptr[0] + i * st[0], ptr[1] + i * st[1], sizeof(T));
      });
    });
  });
  return out;
}

void adv_scatter(const AdvPlan& p, const Array& y, bool accumulate) {
  if (shape_size(p.out_shape) == 0) return;
  Array w = bshape_first(p, y);
  Shape rest_shape;
  Strides vrest, wrest;
  for (size_t i = 0; i < p.rest_dims.size(); ++i) {
    rest_shape.push_back(p.v.shape()[p.rest_dims[i]]);
    vrest.push_back(p.v.strides()[p.rest_dims[i]]);
    wrest.push_back(w.strides()[p.bshape.size() + i]);
  }
  visit_dtype(p.v.dtype(), [&](auto t) {
    using T = decltype(t);
    auto one = [accumulate](char* vp, const char* wp) {
      T a, b;
      std::memcpy(&b, wp, sizeof(T));
      if (accumulate) {
        std::memcpy(&a, vp, sizeof(T));
        b = add_values<T>(a, b);
      }
      std::memcpy(vp, &b, sizeof(T));
    };
    if (rest_shape.empty()) {
      adv_loop(p, w, [&](char* vp, char* wp) { one(vp, wp); });
      return;
    }
    adv_loop(p, w, [&](char* vp, char* wp) {
      for_each_strided<2>(rest_shape, {vp, wp}, {&vrest, &wrest}, [&](auto ptr, auto st, int64_t n) {
        for (int64_t i = 0; i < n; ++i) one(ptr[0] + i * st[0], ptr[1] + i * st[1]);
      });
    });
  });
}

}  // namespace subtensor_detail

// ---- AdvancedSubtensor ----
std::vector<TensorType> AdvancedSubtensor::infer_type(const std::vector<Var>& ins) const {
  if (ins.empty()) throw std::invalid_argument("[" + name() + "] expected an input to index");
  if (!pattern_is_advanced(p_))
    throw std::invalid_argument("[" + name() + "] expected at least one array index");
  return {index_result_type(name(), ins[0].type(), p_, ins, 1)};
}

void AdvancedSubtensor::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  out[0] = adv_gather(make_adv_plan(name(), in[0], p_, in, 1));
}

std::optional<ShapeExprs> AdvancedSubtensor::infer_shape(const ApplyNode& node,
                                                         const ShapeExprs& in) const {
  return ShapeExprs{index_result_shape(node, in, p_, 1, node.outputs[0].type)};
}

}  // namespace theon
