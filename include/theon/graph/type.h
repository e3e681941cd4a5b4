// theon/graph/type.h — TensorType: the static type of a symbolic variable.
//
// A dtype plus a static shape in which each dimension is a known size or
// unknown (-1). A dimension known to be 1 is "broadcastable", as in Theano.
// `filter` checks and converts a runtime value against the type.
#pragma once
#include <string>
#include <vector>

#include "theon/runtime/array.h"

namespace theon {

inline constexpr int64_t kUnknownDim = -1;

struct TensorType {
  DType dtype = DType::Float64;
  std::vector<int64_t> shape;  // kUnknownDim where unknown

  TensorType() = default;
  TensorType(DType d, std::vector<int64_t> s) : dtype(d), shape(std::move(s)) {}
  // Theano's form: broadcastable[i] == true means the dim is known to be 1.
  static TensorType from_broadcastable(DType d, const std::vector<bool>& broadcastable);

  int ndim() const { return int(shape.size()); }
  bool broadcastable(int i) const { return shape[i] == 1; }
  std::vector<bool> broadcastable() const;
  bool operator==(const TensorType& o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType& o) const { return !(*this == o); }
  // True when every value of `o` is a valid value of this type (same dtype and
  // rank, each known dim of this type matches `o`).
  bool is_super(const TensorType& o) const;
  // "TensorType(float32, (?, 3))"
  std::string str() const;
  // Short form used by debugprint: "float32 (?, 3)"? -> "TensorType(float32, matrix)" style names.
  std::string short_str() const;

  // Checks that `value` may be passed where this type is expected and converts
  // it: dtype cast when it is safe (or always with allow_downcast), rank and
  // known dims must match. `what` names the input in the error message.
  Array filter(const Array& value, bool allow_downcast, const std::string& what) const;
};

// "(3, ?)": a static shape as a Python tuple, unknown dims shown as '?' ("(3,)"
// for one dim), for messages.
std::string static_shape_str(const std::vector<int64_t>& shape);

}  // namespace theon
