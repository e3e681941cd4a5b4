#include "theon/graph/type.h"

#include <stdexcept>

namespace theon {

TensorType TensorType::from_broadcastable(DType d, const std::vector<bool>& bc) {
  std::vector<int64_t> s(bc.size());
  for (size_t i = 0; i < bc.size(); ++i) s[i] = bc[i] ? 1 : kUnknownDim;
  return TensorType(d, s);
}

std::vector<bool> TensorType::broadcastable() const {
  std::vector<bool> b(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) b[i] = shape[i] == 1;
  return b;
}

bool TensorType::is_super(const TensorType& o) const {
  if (dtype != o.dtype || shape.size() != o.shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != kUnknownDim && shape[i] != o.shape[i]) return false;
  return true;
}

std::string static_shape_str(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += s[i] == kUnknownDim ? "?" : std::to_string(s[i]);
  }
  if (s.size() == 1) r += ",";
  return r + ")";
}

std::string TensorType::str() const {
  return "TensorType(" + std::string(dtype_name(dtype)) + ", shape=" + static_shape_str(shape) + ")";
}

std::string TensorType::short_str() const {
  bool all_unknown = true;
  for (auto d : shape) all_unknown &= d == kUnknownDim;
  static const char* names[] = {"scalar", "vector", "matrix", "tensor3", "tensor4", "tensor5"};
  std::string dt(dtype_name(dtype));
  if (all_unknown && shape.size() < 6) return "TensorType(" + dt + ", " + names[shape.size()] + ")";
  return "TensorType(" + dt + ", " + static_shape_str(shape) + ")";
}

Array TensorType::filter(const Array& value, bool allow_downcast, const std::string& what) const {
  if (value.ndim() != ndim())
    throw std::invalid_argument(what + ": wrong number of dimensions: expected " +
                                std::to_string(ndim()) + " (" + str() + "), got " +
                                std::to_string(value.ndim()) + " with shape " +
                                shape_str(value.shape()));
  for (int i = 0; i < ndim(); ++i)
    if (shape[i] != kUnknownDim && shape[i] != value.shape()[i])
      throw std::invalid_argument(what + ": expected shape " + static_shape_str(shape) + " (" +
                                  str() + "), got shape " + shape_str(value.shape()));
  if (value.dtype() == dtype) return value;
  if (!allow_downcast && !can_cast_safely(value.dtype(), dtype))
    throw std::invalid_argument(what + ": " + str() + " cannot store a value of dtype " +
                                std::string(dtype_name(value.dtype())) +
                                " without risking loss of precision; cast it explicitly or pass "
                                "allow_input_downcast=True");
  return value.astype(dtype);
}

}  // namespace theon
