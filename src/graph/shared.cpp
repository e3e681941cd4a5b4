#include "theon/graph/shared.h"

#include <stdexcept>

#include "theon/backend/cuda_device.h"

namespace theon {

Array SharedStorage::host_value() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!host_.defined()) host_ = cuda::to_host(device_);
  return host_;
}

Array SharedStorage::device_value(int device, bool* uploaded) {
  std::lock_guard<std::mutex> lock(mu_);
  if (uploaded) *uploaded = false;
  if (device_.defined() && device_.device() == device) return device_;
  if (!host_.defined()) host_ = cuda::to_host(device_);
  device_ = cuda::to_device(host_, cuda::device_runtime(device));
  if (uploaded) *uploaded = true;
  return device_;
}

void SharedStorage::set_host(Array value) {
  std::lock_guard<std::mutex> lock(mu_);
  host_ = std::move(value);
  device_ = Array();
}

void SharedStorage::set_device(Array value) {
  std::lock_guard<std::mutex> lock(mu_);
  device_ = std::move(value);
  host_ = Array();
}

bool SharedStorage::host_stale() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !host_.defined();
}

Array SharedStorage::host_copy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return host_;
}

Array SharedStorage::device_copy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return device_;
}

static const Var& check_shared(const Var& v, const char* who) {
  if (!v.defined() || !v.is_shared())
    throw std::invalid_argument(std::string(who) + ": '" + v.str() + "' is not a shared variable");
  return v;
}

Var shared(const Array& value, std::string name, bool borrow) {
  if (!value.defined()) throw std::invalid_argument("shared: value is undefined");
  auto n = std::make_shared<VariableNode>();
  n->type = TensorType(value.dtype(), std::vector<int64_t>(value.ndim(), kUnknownDim));
  n->name = std::move(name);
  n->kind = VarKind::Shared;
  n->storage = std::make_shared<SharedStorage>(borrow ? value : value.copy());
  n->id = next_variable_id();
  return Var(n);
}

Array get_value(const Var& v, bool borrow) {
  Array a = check_shared(v, "get_value")->storage->host_value();
  return borrow ? a : a.copy();
}

void set_value(const Var& v, const Array& value, bool borrow) {
  check_shared(v, "set_value");
  std::string what = "set_value of shared variable '" + v.str() + "'";
  Array a = v.type().filter(value, false, what);
  v->storage->set_host((borrow || a.buffer() != value.buffer()) ? a : a.copy());
}

void set_default_update(const Var& v, const Var& update, bool weak) {
  check_shared(v, "default_update");
  if (update.dtype() != v.dtype() || update.ndim() != v.ndim())
    throw std::invalid_argument("default_update of '" + v.str() + "': expected " +
                                v.type().str() + ", got " + update.type().str());
  if (weak) {
    v->default_update = Var();
    v->weak_default_update = update.ptr();
  } else {
    v->default_update = update;
    v->weak_default_update.reset();
  }
}

Var default_update_of(const Var& v) {
  if (!v.defined() || !v.is_shared()) return Var();
  if (v->default_update.defined()) return v->default_update;
  return Var(v->weak_default_update.lock());
}

}  // namespace theon
