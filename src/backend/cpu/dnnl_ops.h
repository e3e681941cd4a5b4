// The oneDNN kernels behind conv2d and pool_2d on the CPU, for float32
// C-contiguous NCHW data. Every function returns false, computing nothing,
// when oneDNN has no implementation for the case; the op then runs its
// reference kernel. The ops call these only when dnnl_usable().
#pragma once
#include <cstdint>

#include "theon/ops/pool.h"

namespace theon::cpu {

// oneDNN is switched on (dnnl_enabled()) and the caller is not inside a
// parallel_for task (oneDNN's OpenMP team would oversubscribe the cores).
bool dnnl_usable();
// Sets the calling thread's OpenMP team size (no-op without libgomp).
void set_omp_threads(int n);

// One convolution as theon's Conv2d computes it, filters already flipped when
// filter_flip: input (n, c, h, w), filters (oc, c / groups, kh, kw), output
// (n, oc, oh, ow); dilation as theon counts it (1: dense); ph/pw the padding
// before the first row/column.
struct DnnlConv {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, groups, sh, sw, dh, dw, ph, pw;
};
bool dnnl_conv_forward(const DnnlConv& g, const float* x, const float* wt, float* y);
// gx = the gradient w.r.t. the input (overwritten).
bool dnnl_conv_backward_data(const DnnlConv& g, const float* wt, const float* gy, float* gx);
// gw = the gradient w.r.t. the (flipped-or-not) filters (overwritten).
bool dnnl_conv_backward_weights(const DnnlConv& g, const float* x, const float* gy, float* gw);

// One pooling of (n, c, h, w) into (n, c, oh, ow); kind 0 max, 1 average with
// the padding counted, 2 average over the input positions only; ph/pw the
// padding before the first row/column (the end is padded as far as oh/ow need).
struct DnnlPool {
  int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
  int kind;
};
bool dnnl_pool_forward(const DnnlPool& g, const float* x, float* y);
// The average modes' gradient: gx (overwritten) from gy.
bool dnnl_pool_backward(const DnnlPool& g, const float* gy, float* gx);

}  // namespace theon::cpu

namespace theon::detail {

// Fills *g for pooling an input of shape xs into (..., oh, ow) on oneDNN and
// returns true when oneDNN can take it (mode not sum, no empty dimension,
// dnnl_usable()); the leading dimensions become oneDNN's batch and channels.
bool pool_dnnl_geometry(const PoolParams& p, const Shape& xs, int64_t oh, int64_t ow, cpu::DnnlPool* g);

}  // namespace theon::detail
