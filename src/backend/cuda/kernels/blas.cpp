// Device kernels: blas family (see families.h) — dot, matmul, tensordot,
// batched_dot and the BLAS-shaped Gemm / Gemv / Ger, computed as their
// perform() computes them: products through blas_product.h (gemm for float
// dtypes, an exact kernel for integers and bool), the elementwise forms
// (a 0-d dot operand, Gemm's cases BLAS does not take) with small kernels.
#include "theon/ops/blas.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "blas_conv_util.h"
#include "blas_product.h"
#include "families.h"
#include "theon/ops/gemm.h"

namespace theon::cuda::kernels {

namespace {
using namespace kblas;

template <class O>
bool is(const Op& op) {
  return dynamic_cast<const O*>(&op) != nullptr;
}

int dot_axis_b(int ndim_b) {
  return ndim_b == 1 ? 0 : ndim_b - 2;
}

std::vector<int> free_axes(int ndim, const std::vector<int>& contracted) {
  std::vector<int> r;
  for (int i = 0; i < ndim; ++i)
    if (std::find(contracted.begin(), contracted.end(), i) == contracted.end()) r.push_back(i);
  return r;
}

void check_aligned(const char* who, const Shape& sa, const Shape& sb,
                   const std::vector<int>& axes_a, const std::vector<int>& axes_b) {
  for (size_t i = 0; i < axes_a.size(); ++i)
    if (sa[size_t(axes_a[i])] != sb[size_t(axes_b[i])])
      throw std::invalid_argument(
          std::string("[") + who + "] shapes " + shape_str(sa) + " and " + shape_str(sb) +
          " are not aligned: " + std::to_string(sa[size_t(axes_a[i])]) + " (dim " +
          std::to_string(axes_a[i]) + ") != " + std::to_string(sb[size_t(axes_b[i])]) + " (dim " +
          std::to_string(axes_b[i]) + ")");
}

// numpy.tensordot on the device: a's free axes then b's free axes, as one matrix product.
Array tensordot(DeviceRuntime& rt, const Array& a, const Array& b, const std::vector<int>& axes_a,
                const std::vector<int>& axes_b, DType dt) {
  const std::vector<int> fa = free_axes(a.ndim(), axes_a), fb = free_axes(b.ndim(), axes_b);
  std::vector<int> pa = fa, pb = axes_b;
  pa.insert(pa.end(), axes_a.begin(), axes_a.end());
  pb.insert(pb.end(), fb.begin(), fb.end());
  Shape out_shape;
  for (int i : fa) out_shape.push_back(a.shape()[size_t(i)]);
  for (int i : fb) out_shape.push_back(b.shape()[size_t(i)]);
  const Array A = merged_dims(a.transpose(pa), {int(fa.size()), a.ndim()});
  const Array B = merged_dims(b.transpose(pb), {int(axes_b.size()), b.ndim()});
  Array C = device_empty(rt, dt, {A.shape()[0], B.shape()[1]});
  matmul_2d(rt, A, B, C);
  return C.reshape(out_shape);
}

void run_dot(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
             std::vector<Array>& out) {
  const Array &a = in[0], &b = in[1];
  const DType dt = promote_types(a.dtype(), b.dtype());
  if (a.ndim() == 0 || b.ndim() == 0) {
    out[0] = multiply(rt, a, b, dt);
    return;
  }
  const std::vector<int> ax_a{a.ndim() - 1}, ax_b{dot_axis_b(b.ndim())};
  check_aligned("dot", a.shape(), b.shape(), ax_a, ax_b);
  out[0] = tensordot(rt, a, b, ax_a, ax_b, dt);
}

void run_tensordot(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                   std::vector<Array>& out) {
  const auto& op = static_cast<const TensorDot&>(*node.op);
  check_aligned("tensordot", in[0].shape(), in[1].shape(), op.axes_a(), op.axes_b());
  out[0] = tensordot(rt, in[0], in[1], op.axes_a(), op.axes_b(),
                     promote_types(in[0].dtype(), in[1].dtype()));
}

// x's element `flat` of the batch axes (the leading batch.size() axes).
Array batch_view(Array x, const Shape& batch, int64_t flat) {
  for (int d = int(batch.size()) - 1; d >= 0; --d) {
    x = x.index(d, flat % batch[size_t(d)]);
    flat /= batch[size_t(d)];
  }
  return x;
}

void run_matmul(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
                std::vector<Array>& out) {
  const Array A = in[0].ndim() == 1 ? in[0].expand_dims(0) : in[0];
  const Array B = in[1].ndim() == 1 ? in[1].expand_dims(1) : in[1];
  check_aligned("matmul", in[0].shape(), in[1].shape(), {in[0].ndim() - 1},
                {dot_axis_b(in[1].ndim())});
  const int64_t m = A.shape()[size_t(A.ndim() - 2)], k = A.shape().back(), n = B.shape().back();
  const Shape ba(A.shape().begin(), A.shape().end() - 2),
      bb(B.shape().begin(), B.shape().end() - 2);
  const Shape batch = broadcast_shapes(ba, bb);
  Shape full = batch;
  full.insert(full.end(), {m, n});
  const DType dt = promote_types(A.dtype(), B.dtype());
  Array C = device_empty(rt, dt, full);
  const int64_t nbatch = shape_size(batch);
  if (B.ndim() == 2 && ba == batch) {
    matmul_2d(rt, merged_dims(A, {A.ndim() - 1, A.ndim()}), B, C.reshape({nbatch * m, n}));
  } else if (nbatch > 0) {
    Shape fa = batch, fb = batch;
    fa.insert(fa.end(), {m, k});
    fb.insert(fb.end(), {k, n});
    const Array Ab = A.broadcast_to(fa), Bb = B.broadcast_to(fb);
    for (int64_t i = 0; i < nbatch; ++i)
      matmul_2d(rt, batch_view(Ab, batch, i), batch_view(Bb, batch, i), batch_view(C, batch, i));
  }
  Shape final_shape = batch;
  if (in[0].ndim() > 1) final_shape.push_back(m);
  if (in[1].ndim() > 1) final_shape.push_back(n);
  out[0] = C.reshape(final_shape);
}

void run_batched_dot(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
                     std::vector<Array>& out) {
  const Array &a = in[0], &b = in[1];
  if (a.shape()[0] != b.shape()[0])
    throw std::invalid_argument(
        "[batched_dot] batch sizes differ: " + std::to_string(a.shape()[0]) +
        " != " + std::to_string(b.shape()[0]));
  const int na = a.ndim(), nb = b.ndim();
  const int ax_b = 1 + dot_axis_b(nb - 1);
  check_aligned("batched_dot", a.shape(), b.shape(), {na - 1}, {ax_b});
  const DType dt = promote_types(a.dtype(), b.dtype());
  Shape shape(a.shape().begin(), a.shape().end() - 1);
  std::vector<int> perm_b{0, ax_b};
  for (int i = 1; i < nb; ++i)
    if (i != ax_b) {
      perm_b.push_back(i);
      shape.push_back(b.shape()[size_t(i)]);
    }
  // (batch, rows, k) @ (batch, k, cols), the free axes of each operand merged.
  const Array A = merged_dims(a, {1, na - 1, na});
  const Array B = merged_dims(b.transpose(perm_b), {1, 2, nb});
  Array C = device_empty(rt, dt, {A.shape()[0], A.shape()[1], B.shape()[2]});
  batched_matmul(rt, A, B, C);
  out[0] = C.reshape(shape);
}

Shape broadcast_runtime(const char* who, const Shape& z, const Shape& p) {
  try {
    return broadcast_shapes(z, p);
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("[") + who + "] z of shape " + shape_str(z) +
                                " does not broadcast against the product of shape " + shape_str(p));
  }
}

// z broadcast to `shape`, copied into a new array that gemm then updates in place.
Array copy_of(DeviceRuntime& rt, const Array& z, const Shape& shape) {
  Array r = device_empty(rt, z.dtype(), shape);
  device_assign(r, z);
  return r;
}

// Gemm(z, alpha, x, y, beta) = beta * z + alpha * x @ y.
void run_gemm(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const Array &z = in[0], &x = in[2], &y = in[3];
  const double alpha = in[1].item_double(), beta = in[4].item_double();
  if (x.shape()[1] != y.shape()[0])
    throw std::invalid_argument("[Gemm] shapes " + shape_str(x.shape()) + " and " +
                                shape_str(y.shape()) + " are not aligned");
  const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  const Shape p{m, n};
  const DType dt = z.dtype();
  if (broadcast_runtime("Gemm", z.shape(), p) == p && alpha != 0 && beta != 0 && m > 0 && n > 0 &&
      k > 0) {
    Array r = copy_of(rt, z, p);
    gemm_into(rt, x, y, r, alpha, beta);
    out[0] = r;
    return;
  }
  Array prod = device_empty(rt, dt, p);
  matmul_2d(rt, x, y, prod);
  out[0] = scaled_sum(rt, z, alpha, prod, beta, dt);
}

// Gemv(z, alpha, a, x, beta) = beta * z + alpha * a @ x.
void run_gemv(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const Array &z = in[0], &a = in[2], &x = in[3];
  const double alpha = in[1].item_double(), beta = in[4].item_double();
  if (a.shape()[1] != x.shape()[0])
    throw std::invalid_argument("[Gemv] shapes " + shape_str(a.shape()) + " and " +
                                shape_str(x.shape()) + " are not aligned");
  const int64_t m = a.shape()[0], k = a.shape()[1];
  const Shape p{m};
  const DType dt = z.dtype();
  if (broadcast_runtime("Gemv", z.shape(), p) == p && alpha != 0 && beta != 0 && m > 0 && k > 0) {
    Array r = copy_of(rt, z, p);
    gemm_into(rt, a, x.expand_dims(1), r.reshape({m, 1}), alpha, beta);
    out[0] = r;
    return;
  }
  Array prod = device_empty(rt, dt, p);
  matmul_2d(rt, a, x.expand_dims(1), prod.reshape({m, 1}));
  out[0] = scaled_sum(rt, z, alpha, prod, beta, dt);
}

// Ger(z, alpha, x, y) = z + alpha * outer(x, y).
void run_ger(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
             std::vector<Array>& out) {
  const Array &z = in[0], &x = in[2], &y = in[3];
  const double alpha = in[1].item_double();
  const int64_t m = x.shape()[0], n = y.shape()[0];
  const Shape p{m, n};
  const DType dt = z.dtype();
  if (broadcast_runtime("Ger", z.shape(), p) == p && alpha != 0 && m > 0 && n > 0) {
    Array r = copy_of(rt, z, p);
    gemm_into(rt, x.expand_dims(1), y.expand_dims(0), r, alpha, 1.0);
    out[0] = r;
    return;
  }
  const Array outer = multiply(rt, x.expand_dims(1), y.expand_dims(0), dt);
  out[0] = scaled_sum(rt, z, alpha, outer, std::nullopt, dt);
}

// alpha (input 1) and beta (input 4) are 0-d scalars read on the host.
bool gemm_scalars(const Op&, int i) {
  return i == 1 || i == 4;
}
bool ger_scalar(const Op&, int i) {
  return i == 1;
}

}  // namespace

std::vector<DeviceKernel> blas_kernels() {
  return {
      {"dot", is<Dot>, run_dot},
      {"matmul", is<MatMul>, run_matmul},
      {"tensordot", is<TensorDot>, run_tensordot},
      {"batched_dot", is<BatchedDot>, run_batched_dot},
      {"gemm", is<Gemm>, run_gemm, gemm_scalars},
      {"gemv", is<Gemv>, run_gemv, gemm_scalars},
      {"ger", is<Ger>, run_ger, ger_scalar},
  };
}

}  // namespace theon::cuda::kernels
