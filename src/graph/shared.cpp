#include "theon/graph/shared.h"

#include <stdexcept>

namespace theon {

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
  n->storage = std::make_shared<SharedStorage>();
  n->storage->value = borrow ? value : value.copy();
  n->id = next_variable_id();
  return Var(n);
}

Array get_value(const Var& v, bool borrow) {
  const Array& a = check_shared(v, "get_value")->storage->value;
  return borrow ? a : a.copy();
}

void set_value(const Var& v, const Array& value, bool borrow) {
  check_shared(v, "set_value");
  std::string what = "set_value of shared variable '" + v.str() + "'";
  Array a = v.type().filter(value, false, what);
  v->storage->value = (borrow || a.buffer() != value.buffer()) ? a : a.copy();
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
