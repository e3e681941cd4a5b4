// Test helpers for device kernels (cuda_kernels.h): run one ApplyNode's
// device kernel on device arrays and compare it with the op's CPU perform.
//
// CudaDeviceTest runs on a real GPU when there is one, else on the host
// emulator (cuda_device.h), so every kernel test runs in CI. Inputs passed to
// run_on_device / expect_matches_cpu may be host arrays (uploaded
// C-contiguous) or device arrays, such as the strided, broadcast and offset
// views the device_* helpers below make.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../../src/backend/cuda/emulator/host_compiler.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_device.h"
#include "theon/backend/cuda_kernels.h"
#include "theon/graph/node.h"

namespace theon::testing {

// A test on cuda:0: the GPU when cuda::is_available(), else the emulator
// (turned on for the test and restored after it; the test skips when the
// emulator has no C++ compiler).
class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_emulation_ = cuda::emulation();
    if (!cuda::is_available()) cuda::set_emulation(true);
    if (cuda::emulation() && cuda::detail::host_compiler().empty())
      GTEST_SKIP() << "no GPU and no C++ compiler for the CUDA emulator";
  }
  void TearDown() override { cuda::set_emulation(saved_emulation_); }
  cuda::DeviceRuntime& rt() { return cuda::device_runtime(0); }

 private:
  bool saved_emulation_ = false;
};

// The inputs as the device kernel of `node` receives them: host arrays
// uploaded (except the inputs it reads on the host), device arrays as they are.
inline std::vector<Array> device_inputs(const cuda::DeviceKernel& k, const ApplyNode& node,
                                        const std::vector<Array>& inputs) {
  cuda::DeviceRuntime& rt = cuda::device_runtime(0);
  std::vector<Array> ins;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool on_host = k.host_input && k.host_input(*node.op, int(i));
    if (on_host)
      ins.push_back(inputs[i].on_device() ? cuda::to_host(inputs[i]) : inputs[i]);
    else
      ins.push_back(inputs[i].on_device() ? inputs[i] : cuda::to_device(inputs[i], rt));
  }
  return ins;
}

// Runs node's device kernel (the test fails when the op has none) on
// `inputs` and returns its outputs copied to the host. A kernel error
// (cuda_codegen.h's KernelError) throws std::invalid_argument with the
// message the CPU gives.
inline std::vector<Array> run_on_device(const ApplyNode& node, const std::vector<Array>& inputs) {
  const cuda::DeviceKernel* k = cuda::find_device_kernel(*node.op);
  if (!k) {
    ADD_FAILURE() << "no device kernel for " << node.op->name();
    return {};
  }
  cuda::DeviceRuntime& rt = cuda::device_runtime(0);
  std::vector<Array> ins = device_inputs(*k, node, inputs);
  std::vector<Array> outs(node.outputs.size());
  rt.take_error();  // a flag left by an earlier test does not count
  k->run(rt, node, ins, outs);
  if (const int err = rt.take_error()) throw std::invalid_argument(cuda::kernel_error_message(err));
  std::vector<Array> host;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].on_device()) {
      ADD_FAILURE() << k->name << ": output " << i << " of " << node.op->name()
                    << " is not on the device";
      host.push_back(outs[i]);
    } else {
      host.push_back(cuda::to_host(outs[i]));
    }
  }
  return host;
}

// Compares `got` with `want`: dtype, shape, then every value. rtol 0: exact
// (bit-identical, NaN equal to any NaN); else floats may differ by
// rtol * max(1, |want|) (integers and bools stay exact). Reports the first
// mismatches and their count.
inline void expect_arrays_match(const Array& want, const Array& got, double rtol,
                                const std::string& what) {
  ASSERT_EQ(dtype_name(want.dtype()), dtype_name(got.dtype())) << what;
  ASSERT_EQ(shape_str(want.shape()), shape_str(got.shape())) << what;
  const Array w = want.on_device() ? cuda::to_host(want) : want.copy();
  const Array g = got.on_device() ? cuda::to_host(got) : got.copy();
  const size_t isz = w.itemsize();
  const bool fl = is_float(w.dtype());
  int64_t bad = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < w.size(); ++i) {
    const char* a = static_cast<const char*>(w.data()) + size_t(i) * isz;
    const char* b = static_cast<const char*>(g.data()) + size_t(i) * isz;
    if (std::memcmp(a, b, isz) == 0) continue;
    if (fl) {
      const double x = w.item_double(i), y = g.item_double(i);
      if (std::isnan(x) && std::isnan(y)) continue;
      if (rtol > 0 && std::isfinite(x) && std::abs(x - y) <= rtol * std::max(1.0, std::abs(x)))
        continue;
      if (rtol > 0 && x == y) continue;  // +0 / -0 within a tolerance
    }
    if (bad++ < 5)
      first << "\n  element " << i << ": CPU " << w.item_double(i) << ", device "
            << g.item_double(i);
  }
  if (bad)
    ADD_FAILURE() << what << ": " << bad << " of " << w.size() << " elements differ"
                  << (rtol > 0 ? " beyond rtol " + std::to_string(rtol) : " (exact expected)")
                  << first.str();
}

// Runs node on the device and on the CPU (node.op->perform) and compares
// every output (see expect_arrays_match).
inline void expect_matches_cpu(const ApplyNode& node, const std::vector<Array>& inputs,
                               double rtol = 0) {
  std::vector<Array> cpu_in;
  for (const Array& a : inputs) cpu_in.push_back(a.on_device() ? cuda::to_host(a) : a);
  std::vector<Array> want(node.outputs.size());
  node.op->perform(cpu_in, want);
  const std::vector<Array> got = run_on_device(node, inputs);
  ASSERT_EQ(want.size(), got.size()) << node.op->name();
  for (size_t i = 0; i < want.size(); ++i)
    expect_arrays_match(want[i], got[i], rtol, node.op->name() + " output " + std::to_string(i));
}

// ---- device inputs with unusual layouts ------------------------------------

// fn applied to a C-contiguous device copy of `host` (fn makes a view:
// transpose, slice, broadcast_to ...).
inline Array device_view(const Array& host, const std::function<Array(const Array&)>& fn) {
  return fn(cuda::to_device(host, cuda::device_runtime(0)));
}

// `host`'s values on the device with reversed strides (an F-ordered array).
inline Array device_transposed(const Array& host) {
  if (host.ndim() < 2) return cuda::to_device(host, cuda::device_runtime(0));
  return device_view(host.transpose().copy(), [](const Array& a) { return a.transpose(); });
}

// `host`'s values on the device, every other element of a twice-as-long last axis.
inline Array device_strided(const Array& host) {
  if (host.ndim() == 0) return cuda::to_device(host, cuda::device_runtime(0));
  Shape big = host.shape();
  const int last = host.ndim() - 1;
  big[size_t(last)] *= 2;
  Array b = Array::zeros(host.dtype(), big);
  b.slice(last, 0, big[size_t(last)], 2).assign(host);
  return device_view(b, [&](const Array& a) { return a.slice(last, 0, big[size_t(last)], 2); });
}

// `host`'s values on the device at a non-zero offset into their buffer.
inline Array device_offset(const Array& host, int64_t skip = 3) {
  const int64_t n = host.size();
  Array b = Array::zeros(host.dtype(), {n + skip});
  b.slice(0, skip, n + skip, 1).assign(host.copy().reshape({n}));
  Array d = cuda::to_device(b, cuda::device_runtime(0));
  return Array(host.dtype(), host.shape(), c_strides(host.shape(), host.itemsize()),
               d.offset() + skip * int64_t(host.itemsize()), d.buffer());
}

// `small` uploaded and broadcast to `shape` on the device (stride-0 dims).
inline Array device_broadcast(const Array& small, const Shape& shape) {
  return device_view(small, [&](const Array& a) { return a.broadcast_to(shape); });
}

}  // namespace theon::testing
