// theon/graph/shared.h — shared variables: state that lives across calls.
//
// A shared variable is a graph leaf whose value is held in a SharedStorage
// that compiled functions read and (through `updates`) write. Its static
// shape is unknown in every dimension, as in Theano, so set_value may change
// the shape but not the dtype or rank.
#pragma once
#include "theon/graph/node.h"

namespace theon {

struct SharedStorage {
  Array value;
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
