// Gradients of Pool2d: Pool2d::L_op, Pool2dGrad (every mode) and
// MaxPool2dGradGrad, which makes max-pooling gradients differentiable again.
// The averages' float32 gradient runs on oneDNN; max pooling's stays here
// (every tied maximum gets the gradient, which oneDNN's workspace cannot say),
// in the input's float precision and split over the images on the thread pool.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "../backend/cpu/dnnl_ops.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/pool.h"
#include "theon/runtime/thread_pool.h"

namespace theon {

namespace {

// One pooling window: the input rows [rs, re) and cols [cs, ce) it covers
// (padding excluded) and the divisor of the average modes.
struct Window {
  int64_t rs, re, cs, ce;
  double div;
};

// Calls f(image, output index, window) for every window of the images
// [b0, b1), with exactly the window bounds and divisors of Pool2d's forward kernel.
template <class F>
void for_each_window(const Pool2d& op, int64_t b0, int64_t b1, int64_t h, int64_t w, F&& f) {
  const PoolParams& p = op.params();
  const int64_t oh = op.out_size(0, h), ow = op.out_size(1, w);
  const int64_t wh = p.ws[0], ww = p.ws[1], sh = (*p.stride)[0], sw = (*p.stride)[1];
  const int64_t ph = p.pad[0], pw = p.pad[1], hp = h + 2 * ph, wp = w + 2 * pw;
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t r0 = oy * sh, r1 = std::min(r0 + wh, hp);
      const int64_t rs = std::max(r0, ph) - ph, re = std::min(r1, h + ph) - ph;
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t c0 = ox * sw, c1 = std::min(c0 + ww, wp);
        const int64_t cs = std::max(c0, pw) - pw, ce = std::min(c1, w + pw) - pw;
        if (re <= rs || ce <= cs) continue;  // a window entirely in the padding
        const double div = p.mode == PoolMode::AverageIncPad ? double((r1 - r0) * (c1 - c0))
                           : p.mode == PoolMode::AverageExcPad ? double((re - rs) * (ce - cs))
                                                               : 1.0;
        f(b, (b * oh + oy) * ow + ox, Window{rs, re, cs, ce, div});
      }
    }
}

// The window's maximum, NaN when the window holds one (as the forward op),
// so that no position compares equal and a NaN window passes no gradient.
template <class T>
T window_max(const T* img, int64_t w, const Window& win) {
  T m = -INFINITY;
  for (int64_t r = win.rs; r < win.re; ++r)
    for (int64_t c = win.cs; c < win.ce; ++c) {
      const T v = img[r * w + c];
      if (std::isnan(v)) return v;
      m = std::max(m, v);
    }
  return m;
}

// Batch size and spatial sizes of an N-d input pooled over its last two axes.
struct Dims {
  int64_t batch, h, w;
};
Dims dims_of(const Shape& s) {
  Dims d{1, s[s.size() - 2], s[s.size() - 1]};
  for (size_t i = 0; i + 2 < s.size(); ++i) d.batch *= s[i];
  return d;
}

void check_float_input(const char* who, const TensorType& x, const TensorType& g) {
  if (x.ndim() < 2 || !is_float(x.dtype))
    throw std::invalid_argument(std::string("[") + who + "] x must be a float tensor with at least 2 dimensions, got " +
                                x.str());
  if (g.ndim() != x.ndim() || !is_float(g.dtype))
    throw std::invalid_argument(std::string("[") + who + "] the gradient must be a float tensor of x's rank " +
                                x.str() + ", got " + g.str());
}

// Max pooling's gradient for 2x2 windows moving by 2 without padding (the
// usual CNN case), one image: each input position is in at most one window,
// so it is written once, and positions no window covers stay zero.
template <class T>
void max_grad_2x2(const T* img, const T* gz, T* dst, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  for (int64_t oy = 0; oy < oh; ++oy) {
    const T* r0 = img + 2 * oy * w;
    T* d0 = dst + 2 * oy * w;
    if (2 * oy + 1 >= h) {  // a partial window of one row (ignore_border=False)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t c = 2 * ox;
        const bool two = c + 1 < w;
        const T a = r0[c], b = two ? r0[c + 1] : a;
        if (a != a || b != b) continue;
        const T m = a > b ? a : b, g = gz[oy * ow + ox];
        d0[c] = a == m ? g : T(0);
        if (two) d0[c + 1] = b == m ? g : T(0);
      }
      continue;
    }
    const T* r1 = r0 + w;
    T* d1 = d0 + w;
    const T* go = gz + oy * ow;
    const int64_t full = std::min(ow, w / 2);  // windows with two columns
    for (int64_t ox = 0; ox < full; ++ox) {
      const int64_t c = 2 * ox;
      const T a = r0[c], b = r0[c + 1], e = r1[c], f = r1[c + 1];
      const T m1 = a > b ? a : b, m2 = e > f ? e : f, m = m1 > m2 ? m1 : m2;
      // A window holding NaN passes no gradient (NaN equals nothing).
      const T mm = (a != a || b != b || e != e || f != f) ? T(NAN) : m;
      const T g = go[ox];
      d0[c] = a == mm ? g : T(0);
      d0[c + 1] = b == mm ? g : T(0);
      d1[c] = e == mm ? g : T(0);
      d1[c + 1] = f == mm ? g : T(0);
    }
    if (full < ow) {  // a last window of one column
      const int64_t c = 2 * full;
      const T a = r0[c], e = r1[c];
      if (a != a || e != e) continue;
      const T m = a > e ? a : e, g = go[full];
      d0[c] = a == m ? g : T(0);
      d1[c] = e == m ? g : T(0);
    }
  }
}

// r (zeroed, x-shaped) = Pool2dGrad of gz; xc is x (read in max mode only).
// Images are independent, so they are split over the thread pool.
template <class T>
void grad_kernel(const Pool2d& op, const Dims& d, const Array& xc, const Array& gz, Array& r) {
  const PoolParams& p = op.params();
  const bool is_max = p.mode == PoolMode::Max;
  const T* xp = is_max ? xc.data_as<T>() : nullptr;
  const T* gp = gz.data_as<T>();
  T* rp = r.data_as<T>();
  const int64_t oh = op.out_size(0, d.h), ow = op.out_size(1, d.w);
  const bool k2 = is_max && p.ws == std::array<int64_t, 2>{2, 2} && *p.stride == std::array<int64_t, 2>{2, 2} &&
                  p.pad == std::array<int64_t, 2>{0, 0};
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, d.h * d.w));
  parallel_for(d.batch, grain, [&](int64_t b0, int64_t b1) {
    if (k2) {
      for (int64_t b = b0; b < b1; ++b)
        max_grad_2x2(xp + b * d.h * d.w, gp + b * oh * ow, rp + b * d.h * d.w, d.h, d.w, oh, ow);
      return;
    }
    for_each_window(op, b0, b1, d.h, d.w, [&](int64_t b, int64_t o, const Window& win) {
      T* dst = rp + b * d.h * d.w;
      if (is_max) {
        const T* img = xp + b * d.h * d.w;
        const T m = window_max(img, d.w, win);
        for (int64_t rr = win.rs; rr < win.re; ++rr)
          for (int64_t c = win.cs; c < win.ce; ++c)
            if (img[rr * d.w + c] == m) dst[rr * d.w + c] += gp[o];
        return;
      }
      const T g = T(double(gp[o]) / win.div);
      for (int64_t rr = win.rs; rr < win.re; ++rr)
        for (int64_t c = win.cs; c < win.ce; ++c) dst[rr * d.w + c] += g;
    });
  });
}

}  // namespace

std::vector<InputGrad> Pool2d::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return {InputGrad::disconnected()};
  return {InputGrad::of(apply1(std::make_shared<Pool2dGrad>(p_), {x, cast(og[0], x.dtype())}))};
}

// ---- Pool2dGrad ----
std::string Pool2dGrad::name() const { return std::string("PoolGrad{") + pool_mode_name(params().mode) + "}"; }

std::vector<TensorType> Pool2dGrad::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2) throw std::invalid_argument("[Pool2dGrad] expected 2 inputs (x, gz), got " + std::to_string(ins.size()));
  check_float_input("Pool2dGrad", ins[0].type(), ins[1].type());
  return {ins[0].type()};
}

std::optional<ShapeExprs> Pool2dGrad::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

void Pool2dGrad::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const int nd = x.ndim();
  Dims d = dims_of(x.shape());
  Shape oshape = x.shape();
  oshape[nd - 2] = fwd_.out_size(0, d.h);
  oshape[nd - 1] = fwd_.out_size(1, d.w);
  if (in[1].shape() != oshape)
    throw std::invalid_argument("[Pool2dGrad] gz has shape " + shape_str(in[1].shape()) + " but pooling x of shape " +
                                shape_str(x.shape()) + " gives " + shape_str(oshape));
  const bool is_max = params().mode == PoolMode::Max;
  // float16 / bfloat16 compute in float32; max compares and float32 sums are exact enough there.
  const DType cdt = x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  Array gz = in[1].contiguous(cdt);
  Array r;
  cpu::DnnlPool dg{};
  if (cdt == DType::Float32 && !is_max &&
      detail::pool_dnnl_geometry(params(), x.shape(), oshape[nd - 2], oshape[nd - 1], &dg)) {
    r = Array::empty(cdt, x.shape());
    if (!cpu::dnnl_pool_backward(dg, gz.data_as<float>(), r.data_as<float>())) r = Array();
  }
  if (!r.defined()) {
    Array xc = is_max ? x.contiguous(cdt) : Array();
    r = Array::zeros(cdt, x.shape());
    if (cdt == DType::Float64) grad_kernel<double>(fwd_, d, xc, gz, r);
    else grad_kernel<float>(fwd_, d, xc, gz, r);
  }
  out[0] = x.dtype() == DType::Float64 ? r : r.astype(x.dtype());
}

std::vector<InputGrad> Pool2dGrad::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var& gz = node.inputs[1];
  if (!og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  if (params().mode == PoolMode::Max) {
    Var gg = apply1(std::make_shared<MaxPool2dGradGrad>(params()), {x, cast(og[0], x.dtype())});
    return {InputGrad::of(zeros_like(x)), InputGrad::of(cast(gg, gz.dtype()))};
  }
  return {InputGrad::disconnected(), InputGrad::of(cast(pool_2d(og[0], params()), gz.dtype()))};
}

// ---- MaxPool2dGradGrad ----
MaxPool2dGradGrad::MaxPool2dGradGrad(PoolParams p) : fwd_(std::move(p)) {
  if (fwd_.params().mode != PoolMode::Max)
    throw std::invalid_argument(std::string("[MaxPoolGradGrad] needs mode 'max', got '") +
                                pool_mode_name(fwd_.params().mode) + "'");
}

std::vector<TensorType> MaxPool2dGradGrad::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2) throw std::invalid_argument("[MaxPoolGradGrad] expected 2 inputs (x, h), got " + std::to_string(ins.size()));
  check_float_input("MaxPoolGradGrad", ins[0].type(), ins[1].type());
  return fwd_.infer_type({ins[0]});
}

std::optional<ShapeExprs> MaxPool2dGradGrad::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return fwd_.infer_shape(node, ShapeExprs{in[0]});
}

void MaxPool2dGradGrad::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  if (in[1].shape() != x.shape())
    throw std::invalid_argument("[MaxPoolGradGrad] h has shape " + shape_str(in[1].shape()) + ", x has " +
                                shape_str(x.shape()));
  const int nd = x.ndim();
  Dims d = dims_of(x.shape());
  Shape oshape = x.shape();
  oshape[nd - 2] = fwd_.out_size(0, d.h);
  oshape[nd - 1] = fwd_.out_size(1, d.w);
  Array xc = x.contiguous(DType::Float64);
  Array hc = in[1].contiguous(DType::Float64);
  Array r = Array::zeros(DType::Float64, oshape);
  const double* xp = xc.data_as<double>();
  const double* hp = hc.data_as<double>();
  double* rp = r.data_as<double>();
  for_each_window(fwd_, 0, d.batch, d.h, d.w, [&](int64_t b, int64_t o, const Window& win) {
    const double* img = xp + b * d.h * d.w;
    const double* hi = hp + b * d.h * d.w;
    const double m = window_max(img, d.w, win);
    double s = 0;
    for (int64_t rr = win.rs; rr < win.re; ++rr)
      for (int64_t c = win.cs; c < win.ce; ++c)
        if (img[rr * d.w + c] == m) s += hi[rr * d.w + c];
    rp[o] = s;
  });
  out[0] = x.dtype() == DType::Float64 ? r : r.astype(x.dtype());
}

std::vector<InputGrad> MaxPool2dGradGrad::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var& h = node.inputs[1];
  if (!og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  Var g = apply1(std::make_shared<Pool2dGrad>(params()), {x, cast(og[0], x.dtype())});
  return {InputGrad::of(zeros_like(x)), InputGrad::of(cast(g, h.dtype()))};
}

}  // namespace theon
