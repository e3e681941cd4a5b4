// Device kernels: conv family (see families.h) — Conv2d and its two gradient
// ops through the runtime's convolution (cuDNN on a GPU), and the pooling ops
// (pool.cpp). Theano's conventions map onto Conv2dShape as Conv2d::perform
// maps them onto its CPU kernels: the border mode becomes a padding
// (Conv2d::pad_for), filter_flip=true (a true convolution) flips the filters'
// spatial axes before the cross-correlation (a negative-stride view made
// contiguous), float16 / bfloat16 compute in float32 and integers in float64,
// and sizes the library cannot take (an empty batch, no channels) give an
// empty or zero result without a call.
#include "theon/ops/conv.h"

#include <stdexcept>

#include "blas_conv_util.h"
#include "families.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> pool_kernels();  // pool.cpp

namespace {

template <class O>
bool is(const Op& op) {
  return dynamic_cast<const O*>(&op) != nullptr;
}

// The filters' rows and columns reversed (a view).
Array flip_spatial(const Array& a) {
  Array r = a;
  for (int axis = 2; axis < 4; ++axis)
    r = r.slice(axis, r.shape()[size_t(axis)] - 1, -r.shape()[size_t(axis)] - 1, -1);
  return r;
}

// The dtype of the result (integers give float64) and the dtype computed in.
struct ConvDtypes {
  DType out, compute;
};
ConvDtypes conv_dtypes(DType a, DType b) {
  DType d = promote_types(a, b);
  if (!is_float(d)) d = DType::Float64;
  return {d, d == DType::Float64 ? DType::Float64 : DType::Float32};
}

Conv2dShape conv_shape(const Conv2d& fwd, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                       int64_t r, int64_t s) {
  const ConvParams& p = fwd.params();
  Conv2dShape g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.pad_h = fwd.pad_for(0, r), g.pad_w = fwd.pad_for(1, s);
  g.stride_h = p.subsample[0], g.stride_w = p.subsample[1];
  g.dilation_h = p.dilation[0], g.dilation_w = p.dilation[1];
  g.groups = p.num_groups;
  return g;
}

// `r` (computed in `compute`) as the op's result dtype, its spatial axes reversed when `flip`.
Array finish(const Array& r, DType out, bool flip = false) {
  if (!flip && r.dtype() == out) return r;
  return device_contiguous(flip ? flip_spatial(r) : r, out);
}

std::array<int64_t, 2> rows_cols(const Array& a, const char* who) {
  const auto v = a.to_int_vector();
  if (v.size() != 2 || v[0] < 0 || v[1] < 0)
    throw std::invalid_argument(std::string("[") + who + "] expected 2 non-negative sizes, got " +
                                shape_str(v));
  return {v[0], v[1]};
}

void check_out(const Conv2d& fwd, const char* who, const Conv2dShape& g, int64_t oh, int64_t ow) {
  const int64_t eh = fwd.out_size(0, g.h, g.r), ew = fwd.out_size(1, g.w, g.s);
  if (eh != oh || ew != ow)
    throw std::invalid_argument(
        std::string("[") + who + "] output gradient has spatial size (" + std::to_string(oh) +
        ", " + std::to_string(ow) + ") but input (" + std::to_string(g.h) + ", " +
        std::to_string(g.w) + ") and filters (" + std::to_string(g.r) + ", " + std::to_string(g.s) +
        ") give (" + std::to_string(eh) + ", " + std::to_string(ew) + ")");
}

void run_conv2d(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                std::vector<Array>& out) {
  const Conv2d& op = static_cast<const Conv2d&>(*node.op);
  const ConvParams& p = op.params();
  const Array &x = in[0], &w = in[1];
  const Shape &xs = x.shape(), &ws = w.shape();
  auto check_hint = [](const Shape& s, const std::vector<int64_t>& hint, const char* name) {
    for (size_t i = 0; i < hint.size(); ++i)
      if (hint[i] >= 0 && hint[i] != s[i])
        throw std::invalid_argument(std::string("[conv2d] ") + name + " " + shape_str(hint) +
                                    " does not match the actual shape " + shape_str(s));
  };
  check_hint(xs, p.input_shape, "input_shape");
  check_hint(ws, p.filter_shape, "filter_shape");
  if (xs[1] != ws[1] * p.num_groups)
    throw std::invalid_argument("[conv2d] input has " + std::to_string(xs[1]) +
                                " channels but filters expect " +
                                std::to_string(ws[1] * p.num_groups) + " (input " + shape_str(xs) +
                                ", filters " + shape_str(ws) + ")");
  if (ws[0] % p.num_groups != 0)
    throw std::invalid_argument("[conv2d] " + std::to_string(ws[0]) +
                                " output channels cannot be split into " +
                                std::to_string(p.num_groups) + " groups");
  const int64_t oh = op.out_size(0, xs[2], ws[2]), ow = op.out_size(1, xs[3], ws[3]);
  const ConvDtypes dt = conv_dtypes(x.dtype(), w.dtype());
  Array y = device_empty(rt, dt.compute, {xs[0], ws[0], oh, ow});
  if (y.size() > 0) {
    if (ws[1] == 0 || xs[2] == 0 || xs[3] == 0) {  // only padding is read
      rt.zero(y.data(), y.nbytes());
    } else {
      const Array xc = device_contiguous(x, dt.compute);
      const Array wc = device_contiguous(p.filter_flip ? flip_spatial(w) : w, dt.compute);
      rt.conv2d_forward(conv_shape(op, xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3]), dt.compute,
                        xc.data(), wc.data(), y.data());
    }
  }
  out[0] = finish(y, dt.out);
}

void run_grad_inputs(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                     std::vector<Array>& out) {
  const char* who = "Conv2dGradInputs";
  const Conv2d fwd(static_cast<const Conv2dGradInputs&>(*node.op).params());
  const ConvParams& p = fwd.params();
  const Array &w = in[0], &gy = in[1];
  const Shape &ws = w.shape(), &gs = gy.shape();
  const auto hw = rows_cols(in[2], who);
  if (ws[0] != gs[1] || ws[0] % p.num_groups != 0)
    throw std::invalid_argument("[Conv2dGradInputs] filters " + shape_str(ws) +
                                " do not match output_grad " + shape_str(gs) + " with " +
                                std::to_string(p.num_groups) + " group(s)");
  const Conv2dShape g =
      conv_shape(fwd, gs[0], ws[1] * p.num_groups, hw[0], hw[1], ws[0], ws[2], ws[3]);
  check_out(fwd, who, g, gs[2], gs[3]);
  const ConvDtypes dt = conv_dtypes(w.dtype(), gy.dtype());
  Array dx = device_empty(rt, dt.compute, {g.n, g.c, g.h, g.w});
  if (dx.size() > 0) {
    if (g.k == 0 || gs[2] == 0 || gs[3] == 0) {
      rt.zero(dx.data(), dx.nbytes());
    } else {
      const Array wc = device_contiguous(p.filter_flip ? flip_spatial(w) : w, dt.compute);
      const Array gc = device_contiguous(gy, dt.compute);
      rt.conv2d_backward_data(g, dt.compute, gc.data(), wc.data(), dx.data());
    }
  }
  out[0] = finish(dx, dt.out);
}

void run_grad_weights(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                      std::vector<Array>& out) {
  const char* who = "Conv2dGradWeights";
  const Conv2d fwd(static_cast<const Conv2dGradWeights&>(*node.op).params());
  const ConvParams& p = fwd.params();
  const Array &x = in[0], &gy = in[1];
  const Shape &xs = x.shape(), &gs = gy.shape();
  const auto k = rows_cols(in[2], who);
  if (xs[0] != gs[0] || xs[1] % p.num_groups != 0 || gs[1] % p.num_groups != 0)
    throw std::invalid_argument("[Conv2dGradWeights] input " + shape_str(xs) +
                                " does not match output_grad " + shape_str(gs) + " with " +
                                std::to_string(p.num_groups) + " group(s)");
  if (k[0] == 0 || k[1] == 0)
    throw std::invalid_argument(
        "[Conv2dGradWeights] filters must have positive rows and columns, got " +
        shape_str({k[0], k[1]}));
  const Conv2dShape g = conv_shape(fwd, xs[0], xs[1], xs[2], xs[3], gs[1], k[0], k[1]);
  check_out(fwd, who, g, gs[2], gs[3]);
  const ConvDtypes dt = conv_dtypes(x.dtype(), gy.dtype());
  Array dw = device_empty(rt, dt.compute, {g.k, g.c / g.groups, g.r, g.s});
  if (dw.size() > 0) {
    if (g.n == 0 || g.h == 0 || g.w == 0 || gs[2] == 0 || gs[3] == 0) {
      rt.zero(dw.data(), dw.nbytes());
    } else {
      const Array xc = device_contiguous(x, dt.compute);
      const Array gc = device_contiguous(gy, dt.compute);
      rt.conv2d_backward_filter(g, dt.compute, xc.data(), gc.data(), dw.data());
    }
  }
  // The gradient of the flipped filters the forward op used, flipped back.
  out[0] = finish(dw, dt.out, p.filter_flip);
}

// The rows_cols shape argument of the gradient ops is read on the host.
bool shape_arg(const Op&, int i) {
  return i == 2;
}

}  // namespace

std::vector<DeviceKernel> conv_kernels() {
  std::vector<DeviceKernel> r{
      {"conv2d", is<Conv2d>, run_conv2d},
      {"conv2d_grad_inputs", is<Conv2dGradInputs>, run_grad_inputs, shape_arg},
      {"conv2d_grad_weights", is<Conv2dGradWeights>, run_grad_weights, shape_arg},
  };
  for (DeviceKernel& k : pool_kernels()) r.push_back(k);
  return r;
}

}  // namespace theon::cuda::kernels
