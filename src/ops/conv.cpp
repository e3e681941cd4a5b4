// Conv2d: Theano's 2-D convolution as one op: float32 on oneDNN, other
// dtypes (and the reference path) with im2col + GEMM.
#include "theon/ops/conv.h"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "../backend/cpu/dnnl_ops.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
}

namespace theon {

namespace {

std::string pair_str(const std::array<int64_t, 2>& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

std::string dims_str(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return r + ")";
}

const char* mode_name(BorderMode m) {
  switch (m) {
    case BorderMode::Valid: return "valid";
    case BorderMode::Full: return "full";
    case BorderMode::Half: return "half";
    default: return "explicit";
  }
}

// Merges a variable's static shape with a user hint; both known and different is an error.
std::vector<int64_t> merge_hint(const TensorType& t, const std::vector<int64_t>& hint, const char* what,
                                const char* hint_name) {
  std::vector<int64_t> r = t.shape;
  if (hint.empty()) return r;
  for (int i = 0; i < 4; ++i) {
    if (hint[i] >= 0 && r[i] >= 0 && hint[i] != r[i])
      throw std::invalid_argument(std::string("[conv2d] ") + what + " has static shape " + dims_str(t.shape) +
                                  " but " + hint_name + " is " + dims_str(hint));
    if (r[i] < 0) r[i] = hint[i];
  }
  return r;
}

Var ic(int64_t v) { return constant(double(v), DType::Int64); }

int checked_int(int64_t v) {
  if (v > INT_MAX) throw std::invalid_argument("[conv2d] matrix dimension " + std::to_string(v) + " exceeds the BLAS limit");
  return int(v);
}

// Row-major C (m x n) = A (m x k) * B (k x n), all contiguous.
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, T(0));
    return;
  }
  const int mm = checked_int(n), nn = checked_int(m), kk = checked_int(k);
  const T one = 1, zero = 0;
  const char t = 'N';
  if constexpr (std::is_same_v<T, float>)
    sgemm_(&t, &t, &mm, &nn, &kk, &one, b, &mm, a, &kk, &zero, c, &mm);
  else
    dgemm_(&t, &t, &mm, &nn, &kk, &one, b, &mm, a, &kk, &zero, c, &mm);
}

struct Geometry {
  int64_t n, c, h, w, oc, cg, kh, kw, oh, ow, ph, pw;
};

template <class T>
void conv_forward(const Geometry& g, const ConvParams& p, const T* x, const T* wt, T* out) {
  const int64_t groups = p.num_groups, ocg = g.oc / groups;
  const int64_t kdim = g.cg * g.kh * g.kw, npix = g.oh * g.ow;
  const int64_t sh = p.subsample[0], sw = p.subsample[1], dh = p.dilation[0], dw = p.dilation[1];
  std::vector<T> col(size_t(kdim * npix));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gr = 0; gr < groups; ++gr) {
      const T* xin = x + (n * g.c + gr * g.cg) * g.h * g.w;
      for (int64_t c = 0; c < g.cg; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            T* row = col.data() + ((c * g.kh + i) * g.kw + j) * npix;
            for (int64_t oy = 0; oy < g.oh; ++oy) {
              T* dst = row + oy * g.ow;
              const int64_t iy = oy * sh + i * dh - g.ph;
              if (iy < 0 || iy >= g.h) {
                std::fill(dst, dst + g.ow, T(0));
                continue;
              }
              const T* src = xin + (c * g.h + iy) * g.w;
              for (int64_t ox = 0; ox < g.ow; ++ox) {
                const int64_t ix = ox * sw + j * dw - g.pw;
                dst[ox] = (ix >= 0 && ix < g.w) ? src[ix] : T(0);
              }
            }
          }
      gemm<T>(ocg, npix, kdim, wt + gr * ocg * kdim, col.data(), out + (n * g.oc + gr * ocg) * npix);
    }
  }
}

cpu::DnnlConv dnnl_geometry(const Geometry& g, const ConvParams& p) {
  return {g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.oh, g.ow, p.num_groups, p.subsample[0], p.subsample[1],
          p.dilation[0], p.dilation[1], g.ph, g.pw};
}

}  // namespace

void set_border_mode(ConvParams& p, const std::string& mode) {
  if (mode == "valid") p.border_mode = BorderMode::Valid;
  else if (mode == "full") p.border_mode = BorderMode::Full;
  else if (mode == "half" || mode == "same_half") p.border_mode = BorderMode::Half;
  else
    throw std::invalid_argument("[conv2d] border_mode must be 'valid', 'full', 'half', an int or a pair of "
                                "ints, got '" + mode + "'");
  p.pad = {0, 0};
}

void set_border_mode(ConvParams& p, int64_t pad_rows, int64_t pad_cols) {
  if (pad_rows < 0 || pad_cols < 0)
    throw std::invalid_argument("[conv2d] border_mode padding must be non-negative, got (" +
                                std::to_string(pad_rows) + ", " + std::to_string(pad_cols) + ")");
  p.border_mode = BorderMode::Explicit;
  p.pad = {pad_rows, pad_cols};
}

Conv2d::Conv2d(ConvParams p) : p_(std::move(p)) {
  for (int i = 0; i < 2; ++i) {
    if (p_.subsample[i] < 1)
      throw std::invalid_argument("[conv2d] subsample must be positive, got " + pair_str(p_.subsample));
    if (p_.dilation[i] < 1)
      throw std::invalid_argument("[conv2d] filter_dilation must be positive, got " + pair_str(p_.dilation));
    if (p_.pad[i] < 0) throw std::invalid_argument("[conv2d] padding must be non-negative, got " + pair_str(p_.pad));
  }
  if (p_.num_groups < 1)
    throw std::invalid_argument("[conv2d] num_groups must be positive, got " + std::to_string(p_.num_groups));
  for (const auto* h : {&p_.input_shape, &p_.filter_shape}) {
    const char* what = h == &p_.input_shape ? "input_shape" : "filter_shape";
    if (!h->empty() && h->size() != 4)
      throw std::invalid_argument(std::string("[conv2d] ") + what + " must have 4 entries, got " + dims_str(*h));
    for (int64_t d : *h)
      if (d < -1) throw std::invalid_argument(std::string("[conv2d] ") + what + " has a negative entry: " + dims_str(*h));
  }
}

std::string Conv2d::props() const {
  return std::string("border_mode=") + mode_name(p_.border_mode) + ",pad=" + pair_str(p_.pad) +
         ",subsample=" + pair_str(p_.subsample) + ",filter_flip=" + (p_.filter_flip ? "1" : "0") +
         ",filter_dilation=" + pair_str(p_.dilation) + ",num_groups=" + std::to_string(p_.num_groups) +
         ",imshp=" + dims_str(p_.input_shape) + ",kshp=" + dims_str(p_.filter_shape);
}

int64_t Conv2d::pad_for(int dim, int64_t k) const {
  const int64_t dk = (k - 1) * p_.dilation[dim] + 1;
  switch (p_.border_mode) {
    case BorderMode::Valid: return 0;
    case BorderMode::Full: return dk - 1;
    case BorderMode::Half: return dk / 2;
    default: return p_.pad[dim];
  }
}

int64_t Conv2d::out_size(int dim, int64_t in, int64_t k) const {
  const char* what = dim == 0 ? "rows" : "columns";
  if (k == 0) throw std::invalid_argument(std::string("[conv2d] filters have 0 ") + what);
  if (in < 0 || k < 0) return -1;
  const int64_t dk = (k - 1) * p_.dilation[dim] + 1;
  const int64_t padded = in + 2 * pad_for(dim, k);
  if (padded < dk)
    throw std::invalid_argument("[conv2d] the filter spans " + std::to_string(dk) + " " + what +
                                " (after dilation) but the padded input has only " + std::to_string(padded) +
                                " (border_mode " + mode_name(p_.border_mode) + ")");
  return (padded - dk) / p_.subsample[dim] + 1;
}

std::vector<TensorType> Conv2d::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[conv2d] expected 2 inputs (input, filters), got " + std::to_string(ins.size()));
  const TensorType& xt = ins[0].type();
  const TensorType& wt = ins[1].type();
  if (xt.ndim() != 4)
    throw std::invalid_argument("[conv2d] input must be 4-D (batch, channels, rows, cols), got " + xt.str());
  if (wt.ndim() != 4)
    throw std::invalid_argument("[conv2d] filters must be 4-D (out channels, in channels, rows, cols), got " +
                                wt.str());
  if (xt.dtype == DType::Bool || wt.dtype == DType::Bool)
    throw std::invalid_argument("[conv2d] expected numeric tensors, got " + xt.str() + " and " + wt.str());
  auto xs = merge_hint(xt, p_.input_shape, "input", "input_shape");
  auto ws = merge_hint(wt, p_.filter_shape, "filters", "filter_shape");
  const int64_t g = p_.num_groups;
  if (xs[1] >= 0 && ws[1] >= 0 && xs[1] != ws[1] * g)
    throw std::invalid_argument("[conv2d] input has " + std::to_string(xs[1]) + " channels but filters expect " +
                                std::to_string(ws[1] * g) +
                                (g > 1 ? " (" + std::to_string(ws[1]) + " per group x " + std::to_string(g) + " groups)"
                                       : std::string()));
  if (ws[0] >= 0 && ws[0] % g != 0)
    throw std::invalid_argument("[conv2d] " + std::to_string(ws[0]) + " output channels cannot be split into " +
                                std::to_string(g) + " groups");
  DType d = promote_types(xt.dtype, wt.dtype);
  if (!is_float(d)) d = DType::Float64;
  return {TensorType(d, {xs[0], ws[0], out_size(0, xs[2], ws[2]), out_size(1, xs[3], ws[3])})};
}

std::optional<ShapeExprs> Conv2d::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  std::vector<Var> r{in[0][0], in[1][0]};
  for (int dim = 0; dim < 2; ++dim) {
    Var k = in[1][2 + dim], h = in[0][2 + dim];
    Var dk = (k - 1) * int(p_.dilation[dim]) + 1;
    Var pad;
    switch (p_.border_mode) {
      case BorderMode::Valid: pad = ic(0); break;
      case BorderMode::Full: pad = dk - 1; break;
      case BorderMode::Half: pad = int_div(dk, ic(2)); break;
      default: pad = ic(p_.pad[dim]);
    }
    r.push_back(int_div(h + pad * 2 - dk, ic(p_.subsample[dim])) + 1);
  }
  return ShapeExprs{r};
}

void Conv2d::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const Array& w = in[1];
  const auto& xs = x.shape();
  const auto& ws = w.shape();
  auto check_hint = [](const Shape& s, const std::vector<int64_t>& hint, const char* name) {
    for (size_t i = 0; i < hint.size(); ++i)
      if (hint[i] >= 0 && hint[i] != s[i])
        throw std::invalid_argument(std::string("[conv2d] ") + name + " " + dims_str(hint) +
                                    " does not match the actual shape " + shape_str(s));
  };
  check_hint(xs, p_.input_shape, "input_shape");
  check_hint(ws, p_.filter_shape, "filter_shape");
  const int64_t groups = p_.num_groups;
  if (xs[1] != ws[1] * groups)
    throw std::invalid_argument("[conv2d] input has " + std::to_string(xs[1]) + " channels but filters expect " +
                                std::to_string(ws[1] * groups) + " (input " + shape_str(xs) + ", filters " +
                                shape_str(ws) + ")");
  if (ws[0] % groups != 0)
    throw std::invalid_argument("[conv2d] " + std::to_string(ws[0]) + " output channels cannot be split into " +
                                std::to_string(groups) + " groups");
  Geometry g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[2], ws[3], 0, 0, 0, 0};
  g.oh = out_size(0, g.h, g.kh);
  g.ow = out_size(1, g.w, g.kw);
  g.ph = pad_for(0, g.kh);
  g.pw = pad_for(1, g.kw);
  DType out_dt = promote_types(x.dtype(), w.dtype());
  if (!is_float(out_dt)) out_dt = DType::Float64;
  const DType cdt = out_dt == DType::Float64 ? DType::Float64 : DType::Float32;
  Array wv = w;
  if (p_.filter_flip) {
    for (int axis = 2; axis < 4; ++axis) wv = wv.slice(axis, wv.shape()[axis] - 1, -wv.shape()[axis] - 1, -1);
  }
  Array xc = x.contiguous(cdt);
  Array wc = wv.contiguous(cdt);
  Array r = Array::empty(cdt, {g.n, g.oc, g.oh, g.ow});
  if (cdt == DType::Float64)
    conv_forward(g, p_, xc.data_as<double>(), wc.data_as<double>(), r.data_as<double>());
  else if (!(r.size() > 0 && g.kh > 0 && g.kw > 0 && g.c > 0 && g.h > 0 && g.w > 0 && cpu::dnnl_usable() &&
             cpu::dnnl_conv_forward(dnnl_geometry(g, p_), xc.data_as<float>(), wc.data_as<float>(),
                                    r.data_as<float>())))
    conv_forward(g, p_, xc.data_as<float>(), wc.data_as<float>(), r.data_as<float>());
  out[0] = out_dt == cdt ? r : r.astype(out_dt);
}

Var conv2d(const Var& input, const Var& filters, const ConvParams& params) {
  return apply1(std::make_shared<Conv2d>(params), {input, filters});
}

}  // namespace theon
