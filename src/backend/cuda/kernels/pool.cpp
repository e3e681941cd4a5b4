// Device kernels of the pooling ops (part of the conv family, conv.cpp):
// Pool2d, Pool2dGrad and MaxPool2dGradGrad as generated kernels, one thread
// per output element, with Pool2d::perform's window rules (ignore_border's
// partial windows, padding, the averages' divisors) rather than cuDNN's.
// Each computes what the CPU's reference kernels compute, in their order:
// sums of floats in double (float16 / bfloat16 through float32), of integers
// in 64 bits; max keeps a window's NaN; the gradient gathers, for each input
// position, the windows holding it in the order the CPU scatters them, so it
// rounds as the CPU does; every tied maximum receives the window's gradient.
#include "theon/ops/pool.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "blas_conv_util.h"
#include "families.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> pool_kernels();

namespace {
using namespace kblas;

// Words: [0] images [1] h [2] w [3] oh [4] ow [5, 7) ws [7, 9) stride [9, 11) pad
// [11] mode (PoolMode) [12] x [13] the output [14] gz (Pool2dGrad) or h (MaxPoolGradGrad).
constexpr int kWords = 16;

const char* kPool = R"CUDA(
#define KPOOL_LOOP(n) \
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)
#define KPOOL_GEOMETRY \
  const i64 h = a.w[1], w = a.w[2], oh = a.w[3], ow = a.w[4], wh = a.w[5], ww = a.w[6]; \
  const i64 sh = a.w[7], sw = a.w[8], ph = a.w[9], pw = a.w[10], mode = a.w[11];     \
  const i64 hp = h + 2 * ph, wp = w + 2 * pw;
// The window of output (oy, ox): input rows [rs, re), cols [cs, ce), padding excluded;
// r0, r1, c0, c1 its extent in the padded input.
#define KPOOL_WINDOW(oy, ox)                                                           \
  const i64 r0 = (oy) * sh, r1 = r0 + wh < hp ? r0 + wh : hp;                          \
  const i64 rs = (r0 > ph ? r0 : ph) - ph, re = (r1 < h + ph ? r1 : h + ph) - ph;      \
  const i64 c0 = (ox) * sw, c1 = c0 + ww < wp ? c0 + ww : wp;                          \
  const i64 cs = (c0 > pw ? c0 : pw) - pw, ce = (c1 < w + pw ? c1 : w + pw) - pw;

extern "C" __global__ void kpool_forward(const Args a) {
  KPOOL_GEOMETRY
  const T* x = (const T*)a.w[12];
  T* y = (T*)a.w[13];
  KPOOL_LOOP(a.w[0] * oh * ow) {
    const i64 ox = i % ow, oy = (i / ow) % oh;
    const T* img = x + (i / (ow * oh)) * h * w;
    KPOOL_WINDOW(oy, ox)
    if (re <= rs || ce <= cs) {
      y[i] = cvt<T>(0.0);
      continue;
    }
    if (mode == 0) {  // max: the first NaN wins
      CT m = cvt<CT>(img[rs * w + cs]);
      for (i64 r = rs; r < re; ++r)
        for (i64 c = cs; c < ce; ++c) {
          const CT v = cvt<CT>(img[r * w + c]);
          if (v > m || op_isnan(v)) m = v;
          if (op_isnan(m)) break;
        }
      y[i] = cvt<T>(m);
      continue;
    }
    ACC acc = 0;
    for (i64 r = rs; r < re; ++r)
      for (i64 c = cs; c < ce; ++c) acc += ACC(cvt<CT>(img[r * w + c]));
    if (mode == 1) {
      y[i] = cvt<T>(cvt<CT>(acc));
    } else {
      const i64 n = mode == 2 ? (r1 - r0) * (c1 - c0) : (re - rs) * (ce - cs);
      y[i] = cvt<T>(cvt<CT>((double)acc / (double)n));
    }
  }
}
)CUDA";

const char* kPoolGrad = R"CUDA(
// The maximum of the window in double, NaN when it holds one.
__device__ __forceinline__ double kpool_window_max(const T* img, i64 w, i64 rs, i64 re, i64 cs, i64 ce) {
  double m = -inf_v<double>();
  for (i64 r = rs; r < re; ++r)
    for (i64 c = cs; c < ce; ++c) {
      const double v = cvt<double>(img[r * w + c]);
      if (v != v) return v;
      if (m < v) m = v;
    }
  return m;
}

// dx at (r, c) = the sum, over the windows holding it in row-major window
// order, of their gradient (max: where x equals the window's maximum;
// averages: divided by the divisor in double, then rounded to CT).
extern "C" __global__ void kpool_grad(const Args a) {
  KPOOL_GEOMETRY
  const T* x = (const T*)a.w[12];
  T* dx = (T*)a.w[13];
  const CT* gz = (const CT*)a.w[14];
  KPOOL_LOOP(a.w[0] * h * w) {
    const i64 c = i % w, r = (i / w) % h, b = i / (w * h);
    const T* img = x + b * h * w;
    const CT* g = gz + b * oh * ow;
    const double xv = cvt<double>(img[r * w + c]);
    // windows with oy * sh - ph <= r < oy * sh - ph + wh
    const i64 oy0 = r + ph - wh < 0 ? 0 : (r + ph - wh) / sh + 1, oy_last = (r + ph) / sh;
    const i64 ox0 = c + pw - ww < 0 ? 0 : (c + pw - ww) / sw + 1, ox_last = (c + pw) / sw;
    CT acc = CT(0);
    for (i64 oy = oy0; oy <= oy_last && oy < oh; ++oy)
      for (i64 ox = ox0; ox <= ox_last && ox < ow; ++ox) {
        KPOOL_WINDOW(oy, ox)
        const CT go = g[oy * ow + ox];
        if (mode == 0) {
          if (xv == kpool_window_max(img, w, rs, re, cs, ce)) acc += go;
        } else {
          const double div = mode == 2 ? double((r1 - r0) * (c1 - c0)) : mode == 3 ? double((re - rs) * (ce - cs)) : 1.0;
          acc += CT(double(go) / div);
        }
      }
    dx[i] = cvt<T>(acc);
  }
}

// y (pooled) = the sum in double of hh over the window's positions equal to its maximum.
extern "C" __global__ void kpool_gradgrad(const Args a) {
  KPOOL_GEOMETRY
  const T* x = (const T*)a.w[12];
  T* y = (T*)a.w[13];
  const double* hh = (const double*)a.w[14];
  KPOOL_LOOP(a.w[0] * oh * ow) {
    const i64 ox = i % ow, oy = (i / ow) % oh, b = i / (ow * oh);
    const T* img = x + b * h * w;
    const double* hi = hh + b * h * w;
    KPOOL_WINDOW(oy, ox)
    double s = 0;
    if (re > rs && ce > cs) {
      const double m = kpool_window_max(img, w, rs, re, cs, ce);
      for (i64 r = rs; r < re; ++r)
        for (i64 c = cs; c < ce; ++c)
          if (cvt<double>(img[r * w + c]) == m) s += hi[r * w + c];
    }
    y[i] = cvt<T>(s);
    (void)mode;
  }
}
)CUDA";

}  // namespace

const KernelProgram& kblas::pool_program(DType dt) {
  return cached_program(std::string("kblas.pool.") + c_type(dt), [dt] {
    const bool half = dt == DType::Float16 || dt == DType::BFloat16;
    const char* acc = is_float(dt) ? "double" : dtype_kind(dt) == DKind::Int ? "i64" : "u64";
    KernelProgram p;
    p.num_words = kWords;
    p.source = std::string(fused_prelude()) + "typedef " + c_type(dt) + " T;\ntypedef " +
               (half ? "float" : c_type(dt)) + " CT;\ntypedef " + acc +
               " ACC;\nstruct Args { long long w[" + std::to_string(kWords) + "]; };\n" + kPool;
    p.kernels = {"kpool_forward"};
    if (is_float(dt)) {
      p.source += kPoolGrad;
      p.kernels.insert(p.kernels.end(), {"kpool_grad", "kpool_gradgrad"});
    }
    return p;
  });
}

namespace {

struct PoolDims {
  int64_t images, h, w, oh, ow;
};

PoolDims pool_dims(const Pool2d& fwd, const Shape& s) {
  PoolDims d{1, s[s.size() - 2], s[s.size() - 1], 0, 0};
  for (size_t i = 0; i + 2 < s.size(); ++i) d.images *= s[i];
  d.oh = fwd.out_size(0, d.h);
  d.ow = fwd.out_size(1, d.w);
  return d;
}

Shape pooled_shape(const PoolDims& d, Shape s) {
  s[s.size() - 2] = d.oh;
  s[s.size() - 1] = d.ow;
  return s;
}

void launch(DeviceRuntime& rt, const PoolParams& p, const PoolDims& d, const char* kernel,
            int64_t n, const Array& x, const Array& out, const Array& extra) {
  if (n == 0) return;
  std::vector<int64_t> w(kWords, 0);
  const int64_t vals[] = {d.images,       d.h,      d.w,      d.oh,
                          d.ow,           p.ws[0],  p.ws[1],  (*p.stride)[0],
                          (*p.stride)[1], p.pad[0], p.pad[1], int64_t(p.mode)};
  std::copy(std::begin(vals), std::end(vals), w.begin());
  w[12] = ptr_word(x.data());
  w[13] = ptr_word(out.data());
  w[14] = extra.defined() ? ptr_word(extra.data()) : 0;
  rt.launch(pool_program(x.dtype()), kernel, grid_for(rt, n), w);
}

template <class O>
bool is(const Op& op) {
  return dynamic_cast<const O*>(&op) != nullptr;
}

void run_pool(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const Pool2d& op = static_cast<const Pool2d&>(*node.op);
  const Array& x = in[0];
  const PoolDims d = pool_dims(op, x.shape());
  Array y = device_empty(rt, x.dtype(), pooled_shape(d, x.shape()));
  launch(rt, op.params(), d, "kpool_forward", y.size(), device_contiguous(x, x.dtype()), y,
         Array());
  out[0] = y;
}

void run_pool_grad(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                   std::vector<Array>& out) {
  const Pool2dGrad& op = static_cast<const Pool2dGrad&>(*node.op);
  const Pool2d fwd(op.params());
  const Array &x = in[0], &gz = in[1];
  const PoolDims d = pool_dims(fwd, x.shape());
  const Shape oshape = pooled_shape(d, x.shape());
  if (gz.shape() != oshape)
    throw std::invalid_argument("[Pool2dGrad] gz has shape " + shape_str(gz.shape()) +
                                " but pooling x of shape " + shape_str(x.shape()) + " gives " +
                                shape_str(oshape));
  const DType cdt = x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  Array dx = device_empty(rt, x.dtype(), x.shape());
  launch(rt, op.params(), d, "kpool_grad", dx.size(), device_contiguous(x, x.dtype()), dx,
         device_contiguous(gz, cdt));
  out[0] = dx;
}

void run_pool_gradgrad(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                       std::vector<Array>& out) {
  const MaxPool2dGradGrad& op = static_cast<const MaxPool2dGradGrad&>(*node.op);
  const Pool2d fwd(op.params());
  const Array &x = in[0], &hh = in[1];
  if (hh.shape() != x.shape())
    throw std::invalid_argument("[MaxPoolGradGrad] h has shape " + shape_str(hh.shape()) +
                                ", x has " + shape_str(x.shape()));
  const PoolDims d = pool_dims(fwd, x.shape());
  Array y = device_empty(rt, x.dtype(), pooled_shape(d, x.shape()));
  launch(rt, op.params(), d, "kpool_gradgrad", y.size(), device_contiguous(x, x.dtype()), y,
         device_contiguous(hh, DType::Float64));
  out[0] = y;
}

}  // namespace

std::vector<DeviceKernel> pool_kernels() {
  return {
      {"pool_2d", is<Pool2d>, run_pool},
      {"pool_2d_grad", is<Pool2dGrad>, run_pool_grad},
      {"max_pool_2d_grad_grad", is<MaxPool2dGradGrad>, run_pool_gradgrad},
  };
}

}  // namespace theon::cuda::kernels
