// Pool2d: max / sum / average pooling over the last two axes, Theano semantics.
#include "theon/ops/pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "../backend/cpu/dnnl_ops.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"

namespace theon {

namespace {

std::string pair_str(const std::array<int64_t, 2>& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

Var ic(int64_t v) { return constant(double(v), DType::Int64); }

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

struct PoolGeometry {
  int64_t batch, h, w, oh, ow;
};

template <class T>
void pool_kernel(const T* x, T* y, const PoolGeometry& g, const PoolParams& p) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double,
                                 std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>>;
  const int64_t wh = p.ws[0], ww = p.ws[1], sh = (*p.stride)[0], sw = (*p.stride)[1];
  const int64_t ph = p.pad[0], pw = p.pad[1];
  const int64_t hp = g.h + 2 * ph, wp = g.w + 2 * pw;  // padded extents
  for (int64_t b = 0; b < g.batch; ++b) {
    const T* img = x + b * g.h * g.w;
    T* res = y + b * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t r0 = oy * sh, r1 = std::min(r0 + wh, hp);
      const int64_t rs = std::max(r0, ph) - ph, re = std::min(r1, g.h + ph) - ph;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t c0 = ox * sw, c1 = std::min(c0 + ww, wp);
        const int64_t cs = std::max(c0, pw) - pw, ce = std::min(c1, g.w + pw) - pw;
        T& out = res[oy * g.ow + ox];
        if (re <= rs || ce <= cs) {
          out = T(0);
          continue;
        }
        if (p.mode == PoolMode::Max) {
          T m = img[rs * g.w + cs];
          for (int64_t r = rs; r < re; ++r)
            for (int64_t c = cs; c < ce; ++c) {
              const T v = img[r * g.w + c];
              if (v > m || is_nan(v)) m = v;
              if (is_nan(m)) break;
            }
          out = m;
          continue;
        }
        Acc acc = 0;
        for (int64_t r = rs; r < re; ++r)
          for (int64_t c = cs; c < ce; ++c) acc += Acc(img[r * g.w + c]);
        if (p.mode == PoolMode::Sum) {
          out = convert<T>(acc);
        } else {
          const int64_t n = p.mode == PoolMode::AverageIncPad ? (r1 - r0) * (c1 - c0) : (re - rs) * (ce - cs);
          out = convert<T>(double(acc) / double(n));
        }
      }
    }
  }
}

bool has_nan(const float* x, int64_t n) {
  // GCC vector extensions: the plain loop's compares are not vectorized.
  typedef float V __attribute__((vector_size(32)));
  typedef int M __attribute__((vector_size(32)));
  constexpr int64_t L = sizeof(V) / sizeof(float);
  int64_t i = 0;
  for (; i + 8 * L <= n;) {
    M acc = {};
    for (int k = 0; k < 8; ++k, i += L) {
      V v;
      std::memcpy(&v, x + i, sizeof(V));
      acc |= (v != v);
    }
    for (int64_t j = 0; j < L; ++j)
      if (acc[j]) return true;
  }
  for (; i < n; ++i)
    if (x[i] != x[i]) return true;
  return false;
}

}  // namespace

namespace detail {

bool pool_dnnl_geometry(const PoolParams& p, const Shape& xs, int64_t oh, int64_t ow, cpu::DnnlPool* g) {
  if (p.mode == PoolMode::Sum || !cpu::dnnl_usable()) return false;
  const int nd = int(xs.size());
  int64_t n = 1;
  for (int i = 0; i < nd - 3; ++i) n *= xs[size_t(i)];
  const int64_t c = nd >= 3 ? xs[size_t(nd - 3)] : 1;
  // Without ignore_border the only padding is the partial windows' at the
  // end, which neither average counts (Theano's divisor is the clipped window).
  const int kind = p.mode == PoolMode::Max                                      ? 0
                   : p.mode == PoolMode::AverageIncPad && p.ignore_border ? 1
                                                                               : 2;
  *g = cpu::DnnlPool{n, c, xs[size_t(nd - 2)], xs[size_t(nd - 1)], oh, ow, p.ws[0], p.ws[1], (*p.stride)[0],
                     (*p.stride)[1], p.pad[0], p.pad[1], kind};
  return n > 0 && c > 0 && g->h > 0 && g->w > 0 && oh > 0 && ow > 0;
}

}  // namespace detail

PoolMode pool_mode_from_name(const std::string& name) {
  if (name == "max") return PoolMode::Max;
  if (name == "sum") return PoolMode::Sum;
  if (name == "average_inc_pad" || name == "average") return PoolMode::AverageIncPad;
  if (name == "average_exc_pad") return PoolMode::AverageExcPad;
  throw std::invalid_argument("[pool_2d] mode must be 'max', 'sum', 'average_inc_pad' or 'average_exc_pad', got '" +
                              name + "'");
}

const char* pool_mode_name(PoolMode m) {
  switch (m) {
    case PoolMode::Max: return "max";
    case PoolMode::Sum: return "sum";
    case PoolMode::AverageIncPad: return "average_inc_pad";
    default: return "average_exc_pad";
  }
}

Pool2d::Pool2d(PoolParams p) : p_(std::move(p)) {
  if (!p_.stride) p_.stride = p_.ws;
  for (int i = 0; i < 2; ++i) {
    if (p_.ws[i] < 1) throw std::invalid_argument("[pool_2d] ws must be positive, got " + pair_str(p_.ws));
    if ((*p_.stride)[i] < 1)
      throw std::invalid_argument("[pool_2d] stride must be positive, got " + pair_str(*p_.stride));
    if (p_.pad[i] < 0) throw std::invalid_argument("[pool_2d] pad must be non-negative, got " + pair_str(p_.pad));
    if (p_.pad[i] >= p_.ws[i])
      throw std::invalid_argument("[pool_2d] pad " + pair_str(p_.pad) + " must be smaller than ws " +
                                  pair_str(p_.ws));
  }
  if (!p_.ignore_border && (p_.pad[0] || p_.pad[1]))
    throw std::invalid_argument("[pool_2d] padding " + pair_str(p_.pad) + " works only with ignore_border=True");
}

std::string Pool2d::name() const { return std::string("Pool{") + pool_mode_name(p_.mode) + "}"; }

std::string Pool2d::props() const {
  return "ws=" + pair_str(p_.ws) + ",stride=" + pair_str(*p_.stride) + ",pad=" + pair_str(p_.pad) +
         ",ignore_border=" + (p_.ignore_border ? "1" : "0") + ",mode=" + pool_mode_name(p_.mode);
}

int64_t Pool2d::out_size(int dim, int64_t in) const {
  if (in < 0) return -1;
  const int64_t ws = p_.ws[dim], st = (*p_.stride)[dim];
  const int64_t r = in + 2 * p_.pad[dim];
  // Floor division, as Python's // (r - ws may be negative).
  auto fdiv = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  if (p_.ignore_border) return std::max<int64_t>(fdiv(r - ws, st) + 1, 0);
  if (st >= ws) return fdiv(r - 1, st) + 1;
  return std::max<int64_t>(fdiv(r - 1 - ws, st) + 1, 0) + 1;
}

std::vector<TensorType> Pool2d::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1)
    throw std::invalid_argument("[pool_2d] expected 1 input, got " + std::to_string(ins.size()));
  const TensorType& t = ins[0].type();
  if (t.ndim() < 2)
    throw std::invalid_argument("[pool_2d] input must have at least 2 dimensions, got " + t.str());
  if (t.dtype == DType::Bool) throw std::invalid_argument("[pool_2d] expected a numeric tensor, got " + t.str());
  std::vector<int64_t> shp = t.shape;
  const int nd = t.ndim();
  shp[nd - 2] = out_size(0, t.shape[nd - 2]);
  shp[nd - 1] = out_size(1, t.shape[nd - 1]);
  return {TensorType(t.dtype, shp)};
}

std::optional<ShapeExprs> Pool2d::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int nd = node.inputs[0].ndim();
  std::vector<Var> r(in[0].begin(), in[0].end() - 2);
  for (int dim = 0; dim < 2; ++dim) {
    const int64_t ws = p_.ws[dim], st = (*p_.stride)[dim];
    Var padded = in[0][nd - 2 + dim] + int(2 * p_.pad[dim]);
    if (p_.ignore_border)
      r.push_back(maximum(int_div(padded - int(ws), ic(st)) + 1, ic(0)));
    else if (st >= ws)
      r.push_back(int_div(padded - 1, ic(st)) + 1);
    else
      r.push_back(maximum(int_div(padded - int(1 + ws), ic(st)) + 1, ic(0)) + 1);
  }
  return ShapeExprs{r};
}

void Pool2d::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const int nd = x.ndim();
  PoolGeometry g{1, x.shape()[nd - 2], x.shape()[nd - 1], 0, 0};
  for (int i = 0; i < nd - 2; ++i) g.batch *= x.shape()[i];
  g.oh = out_size(0, g.h);
  g.ow = out_size(1, g.w);
  Shape oshape = x.shape();
  oshape[nd - 2] = g.oh;
  oshape[nd - 1] = g.ow;
  const bool half = x.dtype() == DType::Float16 || x.dtype() == DType::BFloat16;
  const DType cdt = half ? DType::Float32 : x.dtype();
  Array xc = x.contiguous(cdt);
  Array r = Array::empty(cdt, oshape);
  cpu::DnnlPool dg{};
  // oneDNN's max does not propagate NaN as theon's does: inputs holding one
  // take the reference kernel.
  if (cdt == DType::Float32 && detail::pool_dnnl_geometry(p_, x.shape(), g.oh, g.ow, &dg) &&
      !(p_.mode == PoolMode::Max && has_nan(xc.data_as<float>(), xc.size())) &&
      cpu::dnnl_pool_forward(dg, xc.data_as<float>(), r.data_as<float>())) {
    out[0] = half ? r.astype(x.dtype()) : r;
    return;
  }
  visit_dtype(cdt, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16> || std::is_same_v<T, bool>)
      throw std::invalid_argument("[pool_2d] unsupported dtype " + std::string(dtype_name(cdt)));
    else
      pool_kernel<T>(xc.data_as<T>(), r.data_as<T>(), g, p_);
  });
  out[0] = half ? r.astype(x.dtype()) : r;
}

Var pool_2d(const Var& input, const PoolParams& params) {
  return apply1(std::make_shared<Pool2d>(params), {input});
}

}  // namespace theon
