// theon/graph/shared.h — shared variables: state that lives across calls.
//
// A shared variable is a graph leaf whose value is held in a SharedStorage
// that compiled functions read and (through `updates`) write. Its static
// shape is unknown in every dimension, as in Theano, so set_value may change
// the shape but not the dtype or rank.
//
// A function compiled for a CUDA device keeps the variables it uses on that
// device: the storage then holds a device copy, uploaded on first use, which
// the function's updates replace (the host copy goes stale). Reading the value
// on the host (get_value, a CPU function) downloads it once; set_value
// replaces the host copy and drops the device one.
#pragma once
#include <mutex>

#include "theon/graph/node.h"

namespace theon {

struct SharedStorage {
 public:
  explicit SharedStorage(Array host) : host_(std::move(host)) {}
  // The value on the host, downloaded first when the device copy is newer.
  Array host_value();
  // The value on CUDA device `device`, uploaded first when there is no copy
  // there (a copy on another device is downloaded through the host);
  // `uploaded` (if given) says whether it was.
  Array device_value(int device, bool* uploaded = nullptr);
  // Replaces the value by a host array (drops the device copy).
  void set_host(Array value);
  // Replaces the value by a device array (the host copy becomes stale).
  void set_device(Array value);
  // True when the newest value is on a device and the host copy is stale.
  bool host_stale() const;
  // The copies as they are, without transfers (either may be undefined).
  Array host_copy() const;
  Array device_copy() const;

 private:
  mutable std::mutex mu_;
  Array host_, device_;  // host_ is undefined while stale
};

// Creates a shared variable. Without `borrow` the value is copied, so later
// changes to the caller's array do not leak in.
Var shared(const Array& value, std::string name = "", bool borrow = false);
// Current value; a copy unless `borrow`.
Array get_value(const Var& shared_var, bool borrow = false);
// Replaces the value; checks dtype (safe casts only) and rank, naming the variable.
void set_value(const Var& shared_var, const Array& value, bool borrow = false);
// The update a compiled function applies when it uses `shared_var` and the
// user gave no explicit update (Theano's default_update; random streams use it).
// With `weak`, the variable does not keep the update alive (for updates whose
// graph refers back to the variable, like random state).
void set_default_update(const Var& shared_var, const Var& update, bool weak = false);
// The default update, or an undefined Var.
Var default_update_of(const Var& shared_var);

}  // namespace theon
