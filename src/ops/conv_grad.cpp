// Gradients of Conv2d: Conv2d::L_op and the two gradient ops, float32 on
// oneDNN (backward data / backward weights), else computed with BLAS products
// and im2col / col2im, one group at a time. Both gradient ops
// work on the flipped-or-not filters exactly as the forward op does, so they
// are its adjoints for every border mode, stride, dilation and group count.
#include <algorithm>
#include <climits>
#include <stdexcept>

#include "../backend/cpu/dnnl_ops.h"
#include "blas_lapack.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/conv.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

int blas_int(int64_t v) {
  if (v > INT_MAX) throw std::invalid_argument("[conv2d grad] matrix dimension " + std::to_string(v) + " exceeds the BLAS limit");
  return int(v);
}

// Row-major C (m x n) = op(A) * op(B) + beta * C with op(A) m x k, op(B) k x n.
// A row-major matrix is its column-major transpose, so this is the
// column-major C^T = op(B)^T * op(A)^T with the same transpose flags.
template <class T>
void gemm_rm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == T(0)) std::fill(c, c + m * n, T(0));
    return;
  }
  const int mm = blas_int(n), nn = blas_int(m), kk = blas_int(k);
  const int lda = blas_int(ta ? m : k), ldb = blas_int(tb ? k : n);
  const char fa = ta ? 'T' : 'N', fb = tb ? 'T' : 'N';
  const T one = 1;
  if constexpr (std::is_same_v<T, float>)
    sgemm_(&fb, &fa, &mm, &nn, &kk, &one, b, &ldb, a, &lda, &beta, c, &mm, 1, 1);
  else
    dgemm_(&fb, &fa, &mm, &nn, &kk, &one, b, &ldb, a, &lda, &beta, c, &mm, 1, 1);
}

// Sizes of one forward convolution: input (n, c, h, w), filters (oc, cg, kh, kw),
// output (n, oc, oh, ow), padding (ph, pw).
struct Geo {
  int64_t n, c, h, w, oc, cg, kh, kw, oh, ow, ph, pw;
};

// For every column (c, i, j) and output pixel (oy, ox), the input pixel it
// reads, or -1 in the padding; shared by im2col and col2im.
template <class F>
void for_each_tap(const Geo& g, const ConvParams& p, F&& f) {
  const int64_t sh = p.subsample[0], sw = p.subsample[1], dh = p.dilation[0], dw = p.dilation[1];
  const int64_t npix = g.oh * g.ow;
  for (int64_t c = 0; c < g.cg; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t row = ((c * g.kh + i) * g.kw + j) * npix;
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const int64_t iy = oy * sh + i * dh - g.ph;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const int64_t ix = ox * sw + j * dw - g.pw;
            const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
            f(row + oy * g.ow + ox, inside ? (c * g.h + iy) * g.w + ix : -1);
          }
        }
      }
}

// dx (input-sized, zeroed by the caller) += the adjoint of the forward conv applied to gy.
template <class T>
void grad_inputs(const Geo& g, const ConvParams& p, const T* wt, const T* gy, T* dx) {
  const int64_t groups = p.num_groups, ocg = g.oc / groups;
  const int64_t kdim = g.cg * g.kh * g.kw, npix = g.oh * g.ow;
  std::vector<T> col(size_t(kdim * npix));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gr = 0; gr < groups; ++gr) {
      gemm_rm<T>(true, false, kdim, npix, ocg, wt + gr * ocg * kdim, gy + (n * g.oc + gr * ocg) * npix, T(0),
                 col.data());
      T* img = dx + (n * g.c + gr * g.cg) * g.h * g.w;
      for_each_tap(g, p, [&](int64_t ci, int64_t xi) {
        if (xi >= 0) img[xi] += col[size_t(ci)];
      });
    }
}

// dw (ocg rows of kdim per group, flipped-or-not as the forward op uses it) = gy * im2col(x)^T summed over the batch.
template <class T>
void grad_weights(const Geo& g, const ConvParams& p, const T* x, const T* gy, T* dw) {
  const int64_t groups = p.num_groups, ocg = g.oc / groups;
  const int64_t kdim = g.cg * g.kh * g.kw, npix = g.oh * g.ow;
  std::vector<T> col(size_t(kdim * npix));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gr = 0; gr < groups; ++gr) {
      const T* img = x + (n * g.c + gr * g.cg) * g.h * g.w;
      for_each_tap(g, p, [&](int64_t ci, int64_t xi) { col[size_t(ci)] = xi >= 0 ? img[xi] : T(0); });
      gemm_rm<T>(false, true, ocg, kdim, npix, gy + (n * g.oc + gr * ocg) * npix, col.data(), n ? T(1) : T(0),
                 dw + gr * ocg * kdim);
    }
}

cpu::DnnlConv dnnl_geometry(const Geo& g, const ConvParams& p) {
  return {g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.oh, g.ow, p.num_groups, p.subsample[0], p.subsample[1],
          p.dilation[0], p.dilation[1], g.ph, g.pw};
}

// oneDNN takes the float32 case unless a size is 0 (nothing to compute, or a zero fill).
bool dnnl_fits(const Geo& g) {
  return g.n > 0 && g.c > 0 && g.h > 0 && g.w > 0 && g.oc > 0 && g.kh > 0 && g.kw > 0 && g.oh > 0 && g.ow > 0 &&
         cpu::dnnl_usable();
}

Array flip_spatial(const Array& a) {
  Array r = a;
  for (int axis = 2; axis < 4; ++axis) r = r.slice(axis, r.shape()[axis] - 1, -r.shape()[axis] - 1, -1);
  return r;
}

DType float_dtype(DType a, DType b) {
  DType d = promote_types(a, b);
  return is_float(d) ? d : DType::Float64;
}

// (rows, cols) of a 4-D variable as an int64 vector, a constant when both are static.
Var spatial_dims(const Var& v) {
  const auto& s = v.type().shape;
  if (s[2] >= 0 && s[3] >= 0) return constant(Array::from_vector<int64_t>({s[2], s[3]}));
  return make_vector({shape_i(v, 2), shape_i(v, 3)});
}

// The static (rows, cols) held by a rows_cols input, -1 where unknown.
std::array<int64_t, 2> static_pair(const Var& v, const char* who) {
  if (!is_integer(v.dtype()) || v.ndim() != 1 || (v.type().shape[0] >= 0 && v.type().shape[0] != 2))
    throw std::invalid_argument(std::string("[") + who + "] the shape argument must be an integer vector of length 2, got " +
                                v.type().str());
  if (!v.is_constant()) return {-1, -1};
  auto vals = v.constant_value().to_int_vector();
  return {vals[0], vals[1]};
}

std::array<int64_t, 2> runtime_pair(const Array& a, const char* who) {
  auto v = a.to_int_vector();
  if (v.size() != 2 || v[0] < 0 || v[1] < 0)
    throw std::invalid_argument(std::string("[") + who + "] expected 2 non-negative sizes, got " + shape_str(v));
  return {v[0], v[1]};
}

void check_4d(const char* who, const char* what, const TensorType& t) {
  if (t.ndim() != 4 || t.dtype == DType::Bool)
    throw std::invalid_argument(std::string("[") + who + "] " + what + " must be a 4-D numeric tensor, got " + t.str());
}

int64_t known_or(int64_t a, int64_t b) { return a >= 0 ? a : b; }

Var elem(const Var& vec, int i) { return subtensor(vec, {IndexItem::integer(int64_t(i))}); }

// Checks that the forward op maps (h, w) with filters (kh, kw) to (oh, ow).
void check_out(const Conv2d& fwd, const char* who, const Geo& g) {
  const int64_t oh = fwd.out_size(0, g.h, g.kh), ow = fwd.out_size(1, g.w, g.kw);
  if (oh != g.oh || ow != g.ow)
    throw std::invalid_argument(std::string("[") + who + "] output gradient has spatial size (" + std::to_string(g.oh) +
                                ", " + std::to_string(g.ow) + ") but input (" + std::to_string(g.h) + ", " +
                                std::to_string(g.w) + ") and filters (" + std::to_string(g.kh) + ", " +
                                std::to_string(g.kw) + ") give (" + std::to_string(oh) + ", " + std::to_string(ow) + ")");
}

}  // namespace

// ---- Conv2d::L_op ----
std::vector<InputGrad> Conv2d::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var& w = node.inputs[1];
  std::vector<InputGrad> r(2, InputGrad::disconnected());
  if (!og[0].defined()) return r;
  if (is_float(x.dtype())) r[0] = InputGrad::of(cast(conv2d_grad_inputs(w, og[0], spatial_dims(x), p_), x.dtype()));
  if (is_float(w.dtype())) r[1] = InputGrad::of(cast(conv2d_grad_weights(x, og[0], spatial_dims(w), p_), w.dtype()));
  return r;
}

// ---- Conv2dGradInputs ----
Conv2dGradInputs::Conv2dGradInputs(ConvParams p) : fwd_(std::move(p)) {}

std::vector<TensorType> Conv2dGradInputs::infer_type(const std::vector<Var>& ins) const {
  const char* who = "Conv2dGradInputs";
  if (ins.size() != 3)
    throw std::invalid_argument("[Conv2dGradInputs] expected 3 inputs (filters, output_grad, input_rows_cols), got " +
                                std::to_string(ins.size()));
  check_4d(who, "filters", ins[0].type());
  check_4d(who, "output_grad", ins[1].type());
  const auto& ws = ins[0].type().shape;
  const auto& gs = ins[1].type().shape;
  auto hw = static_pair(ins[2], who);
  const auto& p = fwd_.params();
  if (ws[0] >= 0 && gs[1] >= 0 && ws[0] != gs[1])
    throw std::invalid_argument("[Conv2dGradInputs] filters " + ins[0].type().str() + " and output_grad " +
                                ins[1].type().str() + " disagree on the output channels");
  std::vector<int64_t> s{gs[0], ws[1] >= 0 ? ws[1] * p.num_groups : -1, hw[0], hw[1]};
  for (size_t i = 0; i < p.input_shape.size(); ++i) s[i] = known_or(s[i], p.input_shape[i]);
  return {TensorType(float_dtype(ins[0].dtype(), ins[1].dtype()), s)};
}

std::optional<ShapeExprs> Conv2dGradInputs::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return ShapeExprs{{in[1][0], in[0][1] * int(fwd_.params().num_groups), elem(node.inputs[2], 0), elem(node.inputs[2], 1)}};
}

void Conv2dGradInputs::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const char* who = "Conv2dGradInputs";
  const auto& p = fwd_.params();
  const Shape& ws = in[0].shape();
  const Shape& gs = in[1].shape();
  auto hw = runtime_pair(in[2], who);
  if (ws[0] != gs[1] || ws[0] % p.num_groups != 0)
    throw std::invalid_argument("[Conv2dGradInputs] filters " + shape_str(ws) + " do not match output_grad " +
                                shape_str(gs) + " with " + std::to_string(p.num_groups) + " group(s)");
  Geo g{gs[0], ws[1] * p.num_groups, hw[0], hw[1], ws[0], ws[1], ws[2], ws[3], gs[2], gs[3], 0, 0};
  check_out(fwd_, who, g);
  g.ph = fwd_.pad_for(0, g.kh);
  g.pw = fwd_.pad_for(1, g.kw);
  const DType out_dt = float_dtype(in[0].dtype(), in[1].dtype());
  const DType cdt = out_dt == DType::Float64 ? DType::Float64 : DType::Float32;
  Array wc = (p.filter_flip ? flip_spatial(in[0]) : in[0]).contiguous(cdt);
  Array gc = in[1].contiguous(cdt);
  Array r;
  if (cdt == DType::Float32 && dnnl_fits(g)) {
    r = Array::empty(cdt, {g.n, g.c, g.h, g.w});
    if (!cpu::dnnl_conv_backward_data(dnnl_geometry(g, p), wc.data_as<float>(), gc.data_as<float>(),
                                      r.data_as<float>()))
      r = Array();
  }
  if (!r.defined()) {
    r = Array::zeros(cdt, {g.n, g.c, g.h, g.w});
    if (cdt == DType::Float64) grad_inputs(g, p, wc.data_as<double>(), gc.data_as<double>(), r.data_as<double>());
    else grad_inputs(g, p, wc.data_as<float>(), gc.data_as<float>(), r.data_as<float>());
  }
  out[0] = out_dt == cdt ? r : r.astype(out_dt);
}

// <GI(w, gy), H> = <conv(H, w), gy> = <w, GW(H, gy)>.
std::vector<InputGrad> Conv2dGradInputs::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& w = node.inputs[0];
  const Var& gy = node.inputs[1];
  std::vector<InputGrad> r(3, InputGrad::disconnected());
  if (!og[0].defined()) return r;
  const auto& p = fwd_.params();
  if (is_float(w.dtype())) r[0] = InputGrad::of(cast(conv2d_grad_weights(og[0], gy, spatial_dims(w), p), w.dtype()));
  if (is_float(gy.dtype())) r[1] = InputGrad::of(cast(conv2d(og[0], w, p), gy.dtype()));
  return r;
}

// ---- Conv2dGradWeights ----
Conv2dGradWeights::Conv2dGradWeights(ConvParams p) : fwd_(std::move(p)) {}

std::vector<TensorType> Conv2dGradWeights::infer_type(const std::vector<Var>& ins) const {
  const char* who = "Conv2dGradWeights";
  if (ins.size() != 3)
    throw std::invalid_argument("[Conv2dGradWeights] expected 3 inputs (input, output_grad, filter_rows_cols), got " +
                                std::to_string(ins.size()));
  check_4d(who, "input", ins[0].type());
  check_4d(who, "output_grad", ins[1].type());
  const auto& xs = ins[0].type().shape;
  const auto& gs = ins[1].type().shape;
  auto k = static_pair(ins[2], who);
  const int64_t groups = fwd_.params().num_groups;
  if (xs[1] >= 0 && xs[1] % groups != 0)
    throw std::invalid_argument("[Conv2dGradWeights] input " + ins[0].type().str() + " has channels not divisible by " +
                                std::to_string(groups) + " groups");
  std::vector<int64_t> s{gs[1], xs[1] >= 0 ? xs[1] / groups : -1, k[0], k[1]};
  const auto& hint = fwd_.params().filter_shape;
  for (size_t i = 0; i < hint.size(); ++i) s[i] = known_or(s[i], hint[i]);
  return {TensorType(float_dtype(ins[0].dtype(), ins[1].dtype()), s)};
}

std::optional<ShapeExprs> Conv2dGradWeights::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return ShapeExprs{{in[1][1], int_div(in[0][1], constant(double(fwd_.params().num_groups), DType::Int64)),
                     elem(node.inputs[2], 0), elem(node.inputs[2], 1)}};
}

void Conv2dGradWeights::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const char* who = "Conv2dGradWeights";
  const auto& p = fwd_.params();
  const Shape& xs = in[0].shape();
  const Shape& gs = in[1].shape();
  auto k = runtime_pair(in[2], who);
  if (xs[0] != gs[0] || xs[1] % p.num_groups != 0 || gs[1] % p.num_groups != 0)
    throw std::invalid_argument("[Conv2dGradWeights] input " + shape_str(xs) + " does not match output_grad " +
                                shape_str(gs) + " with " + std::to_string(p.num_groups) + " group(s)");
  Geo g{xs[0], xs[1], xs[2], xs[3], gs[1], xs[1] / p.num_groups, k[0], k[1], gs[2], gs[3], 0, 0};
  if (g.kh == 0 || g.kw == 0)
    throw std::invalid_argument("[Conv2dGradWeights] filters must have positive rows and columns, got " + shape_str({g.kh, g.kw}));
  check_out(fwd_, who, g);
  g.ph = fwd_.pad_for(0, g.kh);
  g.pw = fwd_.pad_for(1, g.kw);
  const DType out_dt = float_dtype(in[0].dtype(), in[1].dtype());
  const DType cdt = out_dt == DType::Float64 ? DType::Float64 : DType::Float32;
  Array xc = in[0].contiguous(cdt);
  Array gc = in[1].contiguous(cdt);
  Array r;
  if (cdt == DType::Float32 && dnnl_fits(g)) {
    r = Array::empty(cdt, {g.oc, g.cg, g.kh, g.kw});
    if (!cpu::dnnl_conv_backward_weights(dnnl_geometry(g, p), xc.data_as<float>(), gc.data_as<float>(),
                                         r.data_as<float>()))
      r = Array();
  }
  if (!r.defined()) {
    r = Array::zeros(cdt, {g.oc, g.cg, g.kh, g.kw});
    if (cdt == DType::Float64) grad_weights(g, p, xc.data_as<double>(), gc.data_as<double>(), r.data_as<double>());
    else grad_weights(g, p, xc.data_as<float>(), gc.data_as<float>(), r.data_as<float>());
  }
  if (p.filter_flip) r = flip_spatial(r).contiguous();
  out[0] = out_dt == cdt ? r : r.astype(out_dt);
}

// <GW(x, gy), H> = <conv(x, H), gy> = <x, GI(H, gy)>.
std::vector<InputGrad> Conv2dGradWeights::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var& gy = node.inputs[1];
  std::vector<InputGrad> r(3, InputGrad::disconnected());
  if (!og[0].defined()) return r;
  const auto& p = fwd_.params();
  if (is_float(x.dtype())) r[0] = InputGrad::of(cast(conv2d_grad_inputs(og[0], gy, spatial_dims(x), p), x.dtype()));
  if (is_float(gy.dtype())) r[1] = InputGrad::of(cast(conv2d(x, og[0], p), gy.dtype()));
  return r;
}

Var conv2d_grad_inputs(const Var& filters, const Var& output_grad, const Var& input_rows_cols, const ConvParams& params) {
  return apply1(std::make_shared<Conv2dGradInputs>(params), {filters, output_grad, input_rows_cols});
}

Var conv2d_grad_weights(const Var& input, const Var& output_grad, const Var& filter_rows_cols, const ConvParams& params) {
  return apply1(std::make_shared<Conv2dGradWeights>(params), {input, output_grad, filter_rows_cols});
}

}  // namespace theon
