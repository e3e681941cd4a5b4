#include "theon/runtime/dtype.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "theon/config.h"

namespace theon {

std::string_view dtype_name(DType d) {
  switch (d) {
#define THEON_X(E, T, N) \
  case DType::E:         \
    return N;
    THEON_DTYPES(THEON_X)
#undef THEON_X
  }
  return "?";
}

DType dtype_from_name(std::string_view name) {
#define THEON_X(E, T, N) \
  if (name == N) return DType::E;
  THEON_DTYPES(THEON_X)
#undef THEON_X
  struct Alias {
    std::string_view a;
    DType d;
  };
  static constexpr Alias aliases[] = {
      {"b1", DType::Bool},     {"?", DType::Bool},        {"bool_", DType::Bool},
      {"i1", DType::Int8},     {"i2", DType::Int16},      {"i4", DType::Int32},
      {"i8", DType::Int64},    {"int", DType::Int64},     {"u1", DType::UInt8},
      {"u2", DType::UInt16},   {"u4", DType::UInt32},     {"u8", DType::UInt64},
      {"f2", DType::Float16},  {"half", DType::Float16},  {"f4", DType::Float32},
      {"f8", DType::Float64},  {"float", DType::Float64}, {"double", DType::Float64},
      {"single", DType::Float32}, {"bf16", DType::BFloat16}};
  for (const auto& al : aliases)
    if (al.a == name) return al.d;
  if (name == "floatX") return config().floatX;
  throw std::invalid_argument("unknown dtype '" + std::string(name) +
                              "' (expected one of bool, int8..int64, uint8..uint64, float16, "
                              "bfloat16, float32, float64)");
}

size_t itemsize(DType d) {
  return visit_dtype(d, [](auto t) { return sizeof(t); });
}

DKind dtype_kind(DType d) {
  switch (d) {
    case DType::Bool:
      return DKind::Bool;
    case DType::Int8:
    case DType::Int16:
    case DType::Int32:
    case DType::Int64:
      return DKind::Int;
    case DType::UInt8:
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64:
      return DKind::UInt;
    default:
      return DKind::Float;
  }
}

namespace {
DType signed_of_size(size_t n) {
  switch (n) {
    case 1:
      return DType::Int8;
    case 2:
      return DType::Int16;
    case 4:
      return DType::Int32;
    default:
      return DType::Int64;
  }
}
// Smallest float able to hold every value of integer dtype d.
DType float_for_int(DType d) {
  size_t n = itemsize(d);
  if (n == 1) return DType::Float16;
  if (n == 2) return DType::Float32;
  return DType::Float64;
}
DType promote_floats(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::Float16 && b == DType::BFloat16) || (a == DType::BFloat16 && b == DType::Float16))
    return DType::Float32;
  return itemsize(a) >= itemsize(b) ? a : b;
}
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  DKind ka = dtype_kind(a), kb = dtype_kind(b);
  if (ka == DKind::Bool) return b;
  if (kb == DKind::Bool) return a;
  if (ka == DKind::Float && kb == DKind::Float) return promote_floats(a, b);
  if (ka == DKind::Float) return promote_floats(a, float_for_int(b) == DType::Float16 && a == DType::BFloat16 ? a : float_for_int(b));
  if (kb == DKind::Float) return promote_types(b, a);
  if (ka == kb) return itemsize(a) >= itemsize(b) ? a : b;
  // one signed, one unsigned
  DType s = ka == DKind::Int ? a : b;
  DType u = ka == DKind::Int ? b : a;
  if (itemsize(s) > itemsize(u)) return s;
  if (itemsize(u) == 8) return DType::Float64;
  return signed_of_size(2 * itemsize(u));
}

DType promote_to_float(const std::vector<DType>& ds) {
  if (ds.empty()) throw std::invalid_argument("promote_to_float: no dtypes");
  std::optional<DType> r;
  for (DType d : ds)
    if (is_float(d)) r = r ? promote_types(*r, d) : d;
  if (!r) r = float_result_type(ds[0]);
  for (DType d : ds)
    if (!is_float(d)) r = promote_types(*r, d);
  return *r;
}

DType promote_types(const std::vector<DType>& ds) {
  if (ds.empty()) throw std::invalid_argument("promote_types: no dtypes");
  DType r = ds[0];
  for (size_t i = 1; i < ds.size(); ++i) r = promote_types(r, ds[i]);
  return is_float(r) ? promote_to_float(ds) : r;
}

bool can_cast_safely(DType from, DType to) { return promote_types(from, to) == to; }

DType float_result_type(DType d) {
  if (is_float(d)) return d;
  if (d == DType::Bool) return DType::Float16;
  return float_for_int(d);
}

DType weak_scalar_dtype(ScalarKind kind, DType other) {
  DKind k = dtype_kind(other);
  switch (kind) {
    case ScalarKind::Bool:
      return other;
    case ScalarKind::Int:
      return k == DKind::Bool ? DType::Int64 : other;
    case ScalarKind::Float:
      return k == DKind::Float ? other : DType::Float64;
  }
  return other;
}

}  // namespace theon
