// Device kernels for indexing (indexing_kernels in launch_util.h, joined into
// the data family): Subtensor, AdvancedSubtensor and IncSubtensor, basic and
// advanced.
//
// Basic indices are views (the CPU's basic_view: index scalars and slice
// bounds are read on the host). Advanced indices follow the CPU's plan
// (make_adv_plan in src/ops/advanced_subtensor.cpp) with the index arrays
// left on the device: the broadcast shape and where its dims go are
// metadata, and the kernels read each index, check it against its axis
// (KernelError::index_out_of_bounds) and wrap negative ones. Boolean masks
// have a data-dependent number of true elements: they are read on the host
// (waiting for the device) and their coordinates uploaded, as the CPU turns
// them into integer arrays. One program (index_program.cpp) holds the
// gather, the scatter (set: last write wins in an unspecified order for
// repeated indices; add: atomics, so repeated indices accumulate as
// np.add.at does) and the check-only kernel; it switches on the dtype at run
// time, so every dtype shares it.

#include <algorithm>
#include <stdexcept>
#include <typeinfo>

#include "../../../ops/subtensor_impl.h"
#include "index_words.h"
#include "launch_util.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::kernels::kdata {

using namespace subtensor_detail;

namespace {

// An index of an advanced plan: a device array of any integer dtype, or a
// constant (an integer scalar read on the host, already checked).
struct DeviceIndex {
  Array arr;  // undefined for a constant
  int64_t value = 0;
  Shape shape;  // before broadcasting
  int64_t axis_len = 0, axis_stride = 0;
};

// make_adv_plan with the index arrays kept on the device (see the top of the file).
struct DevicePlan {
  Array v;
  std::vector<int> adv_dims;
  std::vector<DeviceIndex> idx;
  Shape bshape;
  std::vector<int> rest_dims;
  int insert_at = 0;
  Shape out_shape;
};

DevicePlan make_device_plan(DeviceRuntime& rt, const std::string& who, const Array& x,
                            const IndexPattern& p, const std::vector<Array>& ins, size_t first) {
  DevicePlan plan;
  Shape shape;
  Strides strides;
  int64_t offset = x.offset();
  size_t k = first;
  int ax = 0;
  auto need_axes = [&](int m) {
    if (ax + m > x.ndim())
      index_error(
          who, "too many indices for array: array is " + std::to_string(x.ndim()) + "-dimensional");
  };
  auto add_index = [&](DeviceIndex di, int64_t len, int64_t stride) {
    plan.adv_dims.push_back(int(shape.size()));
    di.axis_len = len;
    di.axis_stride = stride;
    plan.idx.push_back(std::move(di));
    shape.push_back(len);
    strides.push_back(stride);
  };
  for (const auto& e : p) {
    switch (e.kind) {
      case IndexEntry::Kind::NewAxis:
        shape.push_back(1);
        strides.push_back(0);
        break;
      case IndexEntry::Kind::Int: {
        need_axes(1);
        const int64_t i = ins[k++].item_int(), n = x.shape()[size_t(ax)];
        if (i < -n || i >= n) index_error(who, out_of_bounds_msg(i, ax, n));
        DeviceIndex di;
        di.value = i < 0 ? i + n : i;
        add_index(di, n, x.strides()[size_t(ax++)]);
        break;
      }
      case IndexEntry::Kind::Slice: {
        need_axes(1);
        const int64_t n = x.shape()[size_t(ax)], st = x.strides()[size_t(ax)];
        int64_t start = e.has_start ? ins[k++].item_int() : 0;
        int64_t stop = e.has_stop ? ins[k++].item_int() : 0;
        const int64_t step = e.has_step ? ins[k++].item_int() : 1;
        if (step == 0) throw std::invalid_argument("[" + who + "] slice step cannot be zero");
        const int64_t len = normalize_slice(n, &start, &stop, step, e.has_start, e.has_stop);
        if (len > 0) offset += start * st;
        shape.push_back(len);
        strides.push_back(st * step);
        ++ax;
        break;
      }
      case IndexEntry::Kind::Array: {
        const Array& a = ins[k++];
        if (a.dtype() == DType::Bool && a.ndim() == 0) {
          DeviceIndex di;  // index 0 of a length-1 axis, taken once (true) or never (false)
          di.shape = {to_host(a).item_int() != 0 ? 1 : 0};
          plan.adv_dims.push_back(int(shape.size()));
          di.axis_len = 1;
          plan.idx.push_back(di);
          shape.push_back(1);
          strides.push_back(0);
        } else if (a.dtype() == DType::Bool) {
          need_axes(a.ndim());
          for (int j = 0; j < a.ndim(); ++j)
            if (a.shape()[size_t(j)] != x.shape()[size_t(ax + j)])
              index_error(who, "boolean index did not match indexed array along axis " +
                                   std::to_string(ax + j) + "; size of axis is " +
                                   std::to_string(x.shape()[size_t(ax + j)]) +
                                   " but size of corresponding boolean axis is " +
                                   std::to_string(a.shape()[size_t(j)]));
          // The coordinates of the true elements, found on the host.
          const Array mask = to_host(a);
          const std::vector<int64_t> flags = mask.to_int_vector();
          std::vector<std::vector<int64_t>> coords(size_t(a.ndim()));
          for (size_t i = 0; i < flags.size(); ++i) {
            if (!flags[i]) continue;
            int64_t rem = int64_t(i);
            for (int d = a.ndim() - 1; d >= 0; --d) {
              coords[size_t(d)].push_back(rem % a.shape()[size_t(d)]);
              rem /= a.shape()[size_t(d)];
            }
          }
          for (int d = 0; d < a.ndim(); ++d) {
            DeviceIndex di;
            const auto& c = coords[size_t(d)];
            di.shape = {int64_t(c.size())};
            di.arr = c.empty() ? device_empty(rt, DType::Int64, {0})
                               : to_device(Array::from_vector<int64_t>(c), rt);
            add_index(di, x.shape()[size_t(ax)], x.strides()[size_t(ax)]);
            ++ax;
          }
        } else if (is_integer(a.dtype())) {
          need_axes(1);
          DeviceIndex di;
          di.arr = a;
          di.shape = a.shape();
          add_index(di, x.shape()[size_t(ax)], x.strides()[size_t(ax)]);
          ++ax;
        } else {
          index_error(who, "arrays used as indices must be of integer (or boolean) type, got " +
                               std::string(dtype_name(a.dtype())));
        }
        break;
      }
    }
  }
  for (; ax < x.ndim(); ++ax) {
    shape.push_back(x.shape()[size_t(ax)]);
    strides.push_back(x.strides()[size_t(ax)]);
  }
  plan.v = Array(x.dtype(), shape, strides, offset, x.buffer());
  size_t nd = 0;
  for (const auto& di : plan.idx) nd = std::max(nd, di.shape.size());
  plan.bshape.assign(nd, 1);
  for (const auto& di : plan.idx)
    for (size_t i = 0; i < di.shape.size(); ++i) {
      int64_t& d = plan.bshape[nd - di.shape.size() + i];
      const int64_t s = di.shape[i];
      if (s != 1 && d != 1 && s != d) {
        std::string all;
        for (const auto& b : plan.idx) all += (all.empty() ? "" : " ") + shape_str(b.shape);
        index_error(
            who,
            "shape mismatch: indexing arrays could not be broadcast together with shapes " + all);
      }
      if (s != 1) d = s;
    }
  const int first_adv = plan.adv_dims.front(), last_adv = plan.adv_dims.back();
  const bool together = last_adv - first_adv + 1 == int(plan.adv_dims.size());
  size_t a = 0;
  for (int d = 0; d < plan.v.ndim(); ++d) {
    if (a < plan.adv_dims.size() && plan.adv_dims[a] == d) {
      ++a;
      continue;
    }
    if (together && d < first_adv) ++plan.insert_at;
    plan.rest_dims.push_back(d);
  }
  for (int r : plan.rest_dims) plan.out_shape.push_back(plan.v.shape()[size_t(r)]);
  plan.out_shape.insert(plan.out_shape.begin() + plan.insert_at, plan.bshape.begin(),
                        plan.bshape.end());
  return plan;
}

// `y` (of the plan's out_shape) with its bshape dims moved first.
Array bshape_first(const DevicePlan& p, const Array& y) {
  const int nb = int(p.bshape.size()), nr = int(p.rest_dims.size());
  std::vector<int> perm;
  for (int i = 0; i < nb; ++i) perm.push_back(p.insert_at + i);
  for (int i = 0; i < nr; ++i) perm.push_back(i < p.insert_at ? i : i + nb);
  return y.transpose(perm);
}

// The words of a loop over `w` (bshape dims, then the rest dims of the plan's
// view): `w_dst` says whether w is the destination (gather) or the source.
std::vector<int64_t> plan_words(DeviceRuntime& rt, const std::string& who, const DevicePlan& p,
                                const Array& w, bool w_dst) {
  const int nb = int(p.bshape.size());
  const int nd = w.ndim();
  if (nd > kIterDims || int(p.idx.size()) > kMaxIndices)
    throw std::invalid_argument("[" + who + "] CUDA: at most " + std::to_string(kIterDims) +
                                " result dims and " + std::to_string(kMaxIndices) +
                                " index arrays, got " + std::to_string(nd) + " and " +
                                std::to_string(p.idx.size()));
  std::vector<int64_t> wd(kWords, 0);
  wd[W_N] = w.size();
  wd[W_ND] = nd;
  wd[W_ERR] = word(rt.error_flag());
  wd[W_DT] = int(p.v.dtype());
  wd[W_ISZ] = int64_t(p.v.itemsize());
  const int w_at = w_dst ? W_DSTST : W_SRCST, v_at = w_dst ? W_SRCST : W_DSTST;
  wd[size_t(w_dst ? W_DST : W_SRC)] = word(w.data());
  wd[size_t(w_dst ? W_SRC : W_DST)] = word(p.v.data());
  for (int d = 0; d < nd; ++d) {
    wd[size_t(W_SHAPE + d)] = w.shape()[size_t(d)];
    wd[size_t(w_at + d)] = w.strides()[size_t(d)];
    wd[size_t(v_at + d)] = d < nb ? 0 : p.v.strides()[size_t(p.rest_dims[size_t(d - nb)])];
  }
  wd[W_K] = int64_t(p.idx.size());
  for (size_t k = 0; k < p.idx.size(); ++k) {
    const DeviceIndex& di = p.idx[k];
    int64_t* e = wd.data() + W_IDX + int(k) * kIdxWords;
    if (di.arr.defined()) {
      e[0] = word(di.arr.data());
      e[1] = int(di.arr.dtype());
      const Array b = di.arr.broadcast_to(p.bshape);
      for (int d = 0; d < nb; ++d) e[4 + d] = b.strides()[size_t(d)];
    } else {
      e[0] = di.value;
      e[1] = -1;
    }
    e[2] = di.axis_len;
    e[3] = di.axis_stride;
  }
  return wd;
}

bool any_index_array(const DevicePlan& p) {
  for (const auto& di : p.idx)
    if (di.arr.defined()) return true;
  return false;
}

// Bounds checks alone, for an empty result whose index arrays are not empty.
void check_only(DeviceRuntime& rt, const std::string& who, const DevicePlan& p) {
  if (shape_size(p.bshape) == 0 || !any_index_array(p)) return;
  const Array w = Array(DType::UInt8, p.bshape, Strides(p.bshape.size(), 0), 0, p.v.buffer());
  DevicePlan q = p;
  q.rest_dims.clear();
  rt.launch(index_program(), "theon_index_check", grid_for(rt, w.size()),
            plan_words(rt, who, q, w, true));
}

Array device_gather(DeviceRuntime& rt, const std::string& who, const DevicePlan& p) {
  Array out = device_empty(rt, p.v.dtype(), p.out_shape);
  if (out.size() == 0) {
    check_only(rt, who, p);
    return out;
  }
  const Array w = bshape_first(p, out);
  rt.launch(index_program(), "theon_gather", grid_for(rt, w.size()),
            plan_words(rt, who, p, w, true));
  return out;
}

void device_scatter(DeviceRuntime& rt, const std::string& who, const DevicePlan& p, const Array& y,
                    bool accumulate) {
  if (shape_size(p.out_shape) == 0) return check_only(rt, who, p);
  const Array w = bshape_first(p, y);
  rt.launch(index_program(), accumulate ? "theon_scatter_add" : "theon_scatter_set",
            grid_for(rt, w.size()), plan_words(rt, who, p, w, false));
}

// Which inputs an index pattern reads on the host (scalars) and on the device (arrays).
bool pattern_host_input(const IndexPattern& p, int first, int input) {
  if (input < first) return false;
  int k = first;
  for (const auto& e : p) {
    const int m = e.num_inputs();
    if (input < k + m) return e.kind != IndexEntry::Kind::Array;
    k += m;
  }
  return true;
}

// ---- the ops ----

bool supports_subtensor(const Op& op) {
  return typeid(op) == typeid(Subtensor);
}
bool subtensor_host_input(const Op&, int i) {
  return i > 0;
}
void run_subtensor(DeviceRuntime&, const ApplyNode& node, const std::vector<Array>& in,
                   std::vector<Array>& out) {
  node.op->perform(in, out);  // a view: basic_view reads the scalars on the host
}

bool supports_adv_subtensor(const Op& op) {
  return typeid(op) == typeid(AdvancedSubtensor);
}
bool adv_subtensor_host_input(const Op& op, int i) {
  return pattern_host_input(static_cast<const AdvancedSubtensor&>(op).pattern(), 1, i);
}
void run_adv_subtensor(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                       std::vector<Array>& out) {
  const auto& op = static_cast<const AdvancedSubtensor&>(*node.op);
  const DevicePlan plan = make_device_plan(rt, op.name(), in[0], op.pattern(), in, 1);
  out.assign(1, device_gather(rt, op.name(), plan));
}

bool supports_inc_subtensor(const Op& op) {
  return typeid(op) == typeid(IncSubtensor);
}
bool inc_subtensor_host_input(const Op& op, int i) {
  return pattern_host_input(static_cast<const IncSubtensor&>(op).pattern(), 2, i);
}
void run_inc_subtensor(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                       std::vector<Array>& out) {
  const auto& op = static_cast<const IncSubtensor&>(*node.op);
  const std::string who = op.name();
  Array r = device_empty(rt, in[0].dtype(), in[0].shape());
  if (r.size() > 0) device_assign(r, in[0]);
  const Array& y = in[1];
  auto fit = [&](const Shape& target) {
    bool ok = y.ndim() <= int(target.size());
    for (int i = 0; ok && i < y.ndim(); ++i) {
      const int64_t d = y.shape()[size_t(i)],
                    s = target[target.size() - size_t(y.ndim()) + size_t(i)];
      ok = d == 1 || d == s;
    }
    if (!ok)
      throw std::invalid_argument(
          "[" + who + "] shape mismatch: value array of shape " + shape_str(y.shape()) +
          " could not be broadcast to indexing result of shape " + shape_str(target));
    return device_contiguous(y, r.dtype()).broadcast_to(target);
  };
  if (pattern_is_advanced(op.pattern())) {
    const DevicePlan plan = make_device_plan(rt, who, r, op.pattern(), in, 2);
    device_scatter(rt, who, plan, fit(plan.out_shape), !op.set());
  } else {
    const Array v = basic_view(who, r, op.pattern(), in, 2);
    const Array yv = fit(v.shape());
    if (v.size() > 0) {
      if (op.set()) {
        device_assign(v, yv);
      } else {
        // v += yv: the scatter-add kernel without index arrays (v's elements are distinct).
        DevicePlan p;
        p.v = v;
        for (int d = 0; d < v.ndim(); ++d) p.rest_dims.push_back(d);
        p.out_shape = v.shape();
        device_scatter(rt, who, p, yv, true);
      }
    }
  }
  out.assign(1, r);
}

}  // namespace

std::vector<DeviceKernel> indexing_kernels() {
  return {
      {"subtensor", supports_subtensor, run_subtensor, subtensor_host_input},
      {"advanced_subtensor", supports_adv_subtensor, run_adv_subtensor, adv_subtensor_host_input},
      {"inc_subtensor", supports_inc_subtensor, run_inc_subtensor, inc_subtensor_host_input},
  };
}

}  // namespace theon::cuda::kernels::kdata
