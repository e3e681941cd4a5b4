// Placement of a Function's steps on a CUDA device and the transfers of a
// call's values (device_program.h).
#include "device_program.h"

#include <algorithm>
#include <iostream>
#include <set>

#include "theon/config.h"
#include "theon/ops/ifelse.h"
#include "theon/ops/shape.h"

namespace theon::detail {

namespace {

size_t bytes_of(const Array& a) {
  return size_t(a.size()) * a.itemsize();
}

bool is_int_scalar(const TensorType& t) {
  return t.ndim() == 0 && (is_integer(t.dtype) || t.dtype == DType::Bool);
}

}  // namespace

DeviceProgram::DeviceProgram(const Function& f, const Device& device)
    : device_(device), rt_(&cuda::device_runtime(device.index)) {
  // Slots whose value a call has on the host before any step runs, or that a
  // host step computes: arguments, constants, host results.
  std::vector<bool> on_host(size_t(f.num_slots_), false);
  for (int s : f.input_slots_) on_host[size_t(s)] = true;
  for (const auto& c : f.constant_slots_) on_host[size_t(c.first)] = true;

  std::set<std::string> warned;
  kernel_.assign(f.steps_.size(), nullptr);
  need_.resize(f.steps_.size());
  for (size_t k = 0; k < f.steps_.size(); ++k) {
    const auto& st = f.steps_[k];
    const Op& op = *st.node->op;
    const size_t n_in = st.in_slots.size();
    auto inputs_on_host = [&] {
      for (int s : st.in_slots)
        if (!on_host[size_t(s)]) return false;
      return true;
    };
    bool host_step = true;
    if (dynamic_cast<const IfElse*>(&op)) {
      // The condition decides on the host which branch to forward, as it is.
      need_[k].assign(n_in, Need::None);
      need_[k][0] = Need::Host;
      host_step = false;
    } else if (dynamic_cast<const ShapeOp*>(&op) || dynamic_cast<const ShapeI*>(&op)) {
      need_[k].assign(n_in, Need::Either);  // metadata only: no copy either way
    } else if (dynamic_cast<const MakeVector*>(&op) ||
               (std::all_of(st.node->outputs.begin(), st.node->outputs.end(),
                            [](const auto& o) { return is_int_scalar(o.type); }) &&
                inputs_on_host())) {
      need_[k].assign(n_in, Need::Host);
    } else if (const cuda::DeviceKernel* kern = cuda::find_device_kernel(op)) {
      kernel_[k] = kern;
      host_step = false;
      need_[k].assign(n_in, Need::Device);
      for (size_t i = 0; i < n_in; ++i)
        if (kern->host_input && kern->host_input(op, int(i))) need_[k][i] = Need::Host;
    } else if (config().allow_cpu_fallback) {
      need_[k].assign(n_in, Need::Host);
      if (warned.insert(op.name()).second) {
        fallback_ops_.push_back(op.name());
        std::cerr << "UserWarning: [function] " << op.name() << " has no CUDA kernel for device '"
                  << device_.str() << "'; it runs on the CPU (config.allow_cpu_fallback)\n";
      }
    } else {
      throw DeviceUnavailable("[function] " + op.name() + " has no CUDA kernel for device '" +
                              device_.str() +
                              "'; set config.allow_cpu_fallback=True to run it on the CPU");
    }
    if (host_step)
      for (int s : st.out_slots) on_host[size_t(s)] = true;
  }

  // Where each constant and shared variable is read.
  std::vector<bool> read_on_host(size_t(f.num_slots_), false),
      read_on_device(size_t(f.num_slots_), false);
  for (size_t k = 0; k < f.steps_.size(); ++k)
    for (size_t i = 0; i < f.steps_[k].in_slots.size(); ++i) {
      const size_t s = size_t(f.steps_[k].in_slots[i]);
      if (need_[k][i] == Need::Host) read_on_host[s] = true;
      if (need_[k][i] == Need::Device) read_on_device[s] = true;
    }
  for (const auto& [slot, value] : f.constant_slots_) {
    host_constants_.push_back({slot, value});
    constants_.push_back(
        {slot, read_on_device[size_t(slot)] ? cuda::to_device(value, *rt_) : Array()});
  }
  // A shared variable read by no step (an output, an update's value) is taken on the device.
  for (const auto& [slot, var] : f.shared_slots_) {
    shared_host_.push_back(read_on_host[size_t(slot)]);
    shared_device_.push_back(read_on_device[size_t(slot)] || !read_on_host[size_t(slot)]);
  }
}

void DeviceProgram::add_constants(SlotValues& v) const {
  for (const auto& [s, a] : host_constants_) v.host[size_t(s)] = a;
  for (const auto& [s, a] : constants_) v.device[size_t(s)] = a;
}

const Array& DeviceProgram::host(SlotValues& v, int slot) {
  Array& h = v.host[size_t(slot)];
  if (!h.defined()) {
    const Array& d = v.device[size_t(slot)];
    h = cuda::to_host(d);
    ++downloads_;
    download_bytes_ += int64_t(bytes_of(h));
  }
  return h;
}

const Array& DeviceProgram::on_device(SlotValues& v, int slot) {
  Array& d = v.device[size_t(slot)];
  if (!d.defined()) {
    const Array& h = v.host[size_t(slot)];
    d = cuda::to_device(h, *rt_);
    count_upload(bytes_of(d));
  }
  return d;
}

Array DeviceProgram::input(size_t k, size_t i, int slot, SlotValues& v) {
  switch (need_[k][i]) {
    case Need::Host:
      return host(v, slot);
    case Need::Device:
      return on_device(v, slot);
    case Need::Either:
    case Need::None:
      break;
  }
  const Array& h = v.host[size_t(slot)];
  return h.defined() ? h : v.device[size_t(slot)];
}

void DeviceProgram::count_upload(size_t nbytes) {
  ++uploads_;
  upload_bytes_ += int64_t(nbytes);
}

TransferStats DeviceProgram::transfers() const {
  return {uploads_.load(), downloads_.load(), upload_bytes_.load(), download_bytes_.load()};
}

}  // namespace theon::detail
