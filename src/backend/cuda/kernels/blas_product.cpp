// Matrix products and the small elementwise steps of the blas family on a
// CUDA device (see blas_product.h).
#include "blas_product.h"

#include <algorithm>
#include <stdexcept>

#include "blas_conv_util.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::kernels::kblas {

namespace {

// Word layout of the elementwise kernels (kMaxDims dims):
//   [0] n  [1] ndim  [2, 10) shape  [10] out  [11] a  [12, 20) a's byte strides
//   [20] b  [21, 29) b's byte strides  [29] alpha  [30] beta (double bits)  [31] has beta
// and of kblas_int_matmul:
//   [0] m  [1] n  [2] k  [3] a  [4, 6) a's byte strides  [6] b  [7, 9) b's byte strides
//   [9] c  [10, 12) c's byte strides
constexpr int kWords = 32;
constexpr int kOut = 10, kA = 11, kB = 20;
static_assert(kMaxDims == 8, "the word layout above assumes 8 dims");

const char* kElementwise = R"CUDA(
template <class X> struct kblas_compute { typedef X t; };
template <> struct kblas_compute<f16> { typedef float t; };
template <> struct kblas_compute<bf16> { typedef float t; };
typedef kblas_compute<T>::t CT;
#define KBLAS_LOOP(n) \
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

// The byte offset of element i (row-major over the shape) with the byte strides at w[base].
__device__ __forceinline__ i64 kblas_offset(const Args& a, i64 i, int base) {
  i64 o = 0;
  for (int d = (int)a.w[1] - 1; d >= 0; --d) {
    const i64 len = a.w[2 + d];
    o += (i % len) * a.w[base + d];
    i /= len;
  }
  return o;
}
__device__ __forceinline__ CT kblas_load(const Args& a, int ptr, i64 i) {
  return cvt<CT>(*(const T*)((const char*)a.w[ptr] + kblas_offset(a, i, ptr + 1)));
}
extern "C" __global__ void kblas_mul(const Args a) {
  T* out = (T*)a.w[10];
  KBLAS_LOOP(a.w[0]) out[i] = cvt<T>(op_mul(kblas_load(a, 11, i), kblas_load(a, 20, i)));
}
extern "C" __global__ void kblas_scaled_sum(const Args a) {
  T* out = (T*)a.w[10];
  const CT alpha = cvt<CT>(__longlong_as_double(a.w[29])), beta = cvt<CT>(__longlong_as_double(a.w[30]));
  KBLAS_LOOP(a.w[0]) {
    CT z = kblas_load(a, 11, i);
    if (a.w[31]) z = op_mul(beta, z);
    out[i] = cvt<T>(op_add(z, op_mul(alpha, kblas_load(a, 20, i))));
  }
}
)CUDA";

// One thread per element of c; the sum runs over k in order, in 64-bit
// unsigned arithmetic (wrapping), truncated to T at the end, as the CPU's loop.
const char* kIntMatmul = R"CUDA(
extern "C" __global__ void kblas_int_matmul(const Args a) {
  const i64 n = a.w[1], k = a.w[2];
  KBLAS_LOOP(a.w[0] * n) {
    const i64 r = i / n, c = i % n;
    const char* pa = (const char*)a.w[3] + r * a.w[4];
    const char* pb = (const char*)a.w[6] + c * a.w[8];
    T* dst = (T*)((char*)a.w[9] + r * a.w[10] + c * a.w[11]);
    KBLAS_SUM
  }
}
)CUDA";

const char* kIntSum =
    "u64 acc = 0;\n"
    "    for (i64 p = 0; p < k; ++p)\n"
    "      acc += (u64)(i64)*(const T*)(pa + p * a.w[5]) * (u64)(i64)*(const T*)(pb + p * "
    "a.w[7]);\n"
    "    *dst = T(tr<T>::U(acc));";
const char* kBoolSum =
    "bool acc = false;\n"
    "    for (i64 p = 0; p < k && !acc; ++p)\n"
    "      acc = *(const bool*)(pa + p * a.w[5]) && *(const bool*)(pb + p * a.w[7]);\n"
    "    *dst = acc;";

}  // namespace

const KernelProgram& blas_program(DType dt) {
  return cached_program(std::string("kblas.blas.") + c_type(dt), [dt] {
    KernelProgram p;
    p.num_words = kWords;
    p.source = std::string(fused_prelude()) + "typedef " + c_type(dt) +
               " T;\nstruct Args { long long w[" + std::to_string(kWords) + "]; };\n" +
               kElementwise;
    p.kernels = {"kblas_mul", "kblas_scaled_sum"};
    if (!is_float(dt)) {
      std::string mm = kIntMatmul;
      mm.replace(mm.find("KBLAS_SUM"), 9, dt == DType::Bool ? kBoolSum : kIntSum);
      p.source += mm;
      p.kernels.push_back("kblas_int_matmul");
    }
    return p;
  });
}

namespace {

// A 2-d operand as gemm reads it: row-major (ld = row stride) or, as the
// transpose flag, column-major (ld = column stride), in elements.
struct GemmOperand {
  Array keep;
  bool trans;
  int64_t ld;
};

GemmOperand gemm_operand(const Array& x, DType dt) {
  Array y = x.dtype() == dt ? x : device_contiguous(x, dt);
  const int64_t r = y.shape()[0], c = y.shape()[1], s = int64_t(y.itemsize());
  const int64_t s0 = y.strides()[0], s1 = y.strides()[1];
  if ((c == 1 || s1 == s) && (r == 1 || (s0 % s == 0 && s0 >= c * s)))
    return {y, false, r == 1 ? std::max<int64_t>(c, 1) : s0 / s};
  if ((r == 1 || s0 == s) && (c == 1 || (s1 % s == 0 && s1 >= r * s)))
    return {y, true, c == 1 ? std::max<int64_t>(r, 1) : s1 / s};
  return {device_contiguous(y, dt), false, std::max<int64_t>(c, 1)};
}

// Fills the words of an elementwise operand (pointer and byte strides of x broadcast to `shape`).
void put_operand(std::vector<int64_t>& w, int at, const Array& x, const Shape& shape) {
  const Array b = x.broadcast_to(shape);
  w[size_t(at)] = ptr_word(b.data());
  for (size_t d = 0; d < shape.size(); ++d) w[size_t(at + 1) + d] = b.strides()[d];
}

// Launches an elementwise kernel writing a new array of dtype dt and the broadcast shape of a and
// b.
Array elementwise(DeviceRuntime& rt, const char* kernel, Array a, Array b, DType dt, double alpha,
                  std::optional<double> beta) {
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  Array out = device_empty(rt, dt, shape);
  const int64_t n = out.size();
  if (n == 0) return out;
  if (a.dtype() != dt) a = device_contiguous(a, dt);
  if (b.dtype() != dt) b = device_contiguous(b, dt);
  if (shape.size() > size_t(kMaxDims)) {  // flattened: C-contiguous broadcast copies
    a = device_contiguous(a.broadcast_to(shape), dt).reshape({n});
    b = device_contiguous(b.broadcast_to(shape), dt).reshape({n});
    shape = {n};
  }
  std::vector<int64_t> w(kWords, 0);
  w[0] = n;
  w[1] = int64_t(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) w[2 + d] = shape[d];
  w[kOut] = ptr_word(out.data());
  put_operand(w, kA, a, shape);
  put_operand(w, kB, b, shape);
  w[29] = double_word(alpha);
  w[30] = double_word(beta.value_or(1.0));
  w[31] = beta.has_value();
  rt.launch(blas_program(dt), kernel, grid_for(rt, n), w);
  return out;
}

}  // namespace

void gemm_into(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c, double alpha,
               double beta) {
  const DType dt = c.dtype();
  const GemmOperand A = gemm_operand(a, dt), B = gemm_operand(b, dt);
  const int64_t m = c.shape()[0], n = c.shape()[1], k = a.shape()[1];
  const int64_t ldc = m == 1 ? n : c.strides()[0] / int64_t(c.itemsize());
  rt.gemm(A.trans, B.trans, m, n, k, alpha, A.keep.data(), A.ld, B.keep.data(), B.ld, beta,
          c.data(), ldc, dt);
}

void matmul_2d(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  if (m == 0 || n == 0) return;
  const DType dt = c.dtype();
  if (k == 0) {
    rt.zero(c.data(), c.nbytes());
    return;
  }
  if (is_float(dt)) {
    gemm_into(rt, a, b, c, 1.0, 0.0);
    return;
  }
  const Array A = a.dtype() == dt ? a : device_contiguous(a, dt);
  const Array B = b.dtype() == dt ? b : device_contiguous(b, dt);
  std::vector<int64_t> w(kWords, 0);
  w[0] = m;
  w[1] = n;
  w[2] = k;
  w[3] = ptr_word(A.data());
  w[4] = A.strides()[0];
  w[5] = A.strides()[1];
  w[6] = ptr_word(B.data());
  w[7] = B.strides()[0];
  w[8] = B.strides()[1];
  w[9] = ptr_word(c.data());
  w[10] = c.strides()[0];
  w[11] = c.strides()[1];
  rt.launch(blas_program(dt), "kblas_int_matmul", grid_for(rt, m * n), w);
}

void batched_matmul(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c) {
  for (int64_t i = 0; i < c.shape()[0]; ++i)
    matmul_2d(rt, a.index(0, i), b.index(0, i), c.index(0, i));
}

Array multiply(DeviceRuntime& rt, const Array& a, const Array& b, DType dtype) {
  return elementwise(rt, "kblas_mul", a, b, dtype, 0.0, std::nullopt);
}

Array scaled_sum(DeviceRuntime& rt, const Array& z, double alpha, const Array& p,
                 std::optional<double> beta, DType dtype) {
  return elementwise(rt, "kblas_scaled_sum", z, p, dtype, alpha, beta);
}

}  // namespace theon::cuda::kernels::kblas
