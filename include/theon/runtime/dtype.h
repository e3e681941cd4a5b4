// theon/runtime/dtype.h — element types and NumPy 2 type promotion.
//
// The thirteen dtypes theon stores, their C++ storage types, names and sizes,
// and the promotion and casting rules of NumPy 2 (NEP 50: Python scalars are
// "weak" and take the dtype of the array they meet).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "theon/runtime/half.h"

namespace theon {

// X(Enum, storage type, name)
#define THEON_DTYPES(X)          \
  X(Bool, bool, "bool")          \
  X(Int8, int8_t, "int8")        \
  X(Int16, int16_t, "int16")     \
  X(Int32, int32_t, "int32")     \
  X(Int64, int64_t, "int64")     \
  X(UInt8, uint8_t, "uint8")     \
  X(UInt16, uint16_t, "uint16")  \
  X(UInt32, uint32_t, "uint32")  \
  X(UInt64, uint64_t, "uint64")  \
  X(Float16, float16, "float16") \
  X(BFloat16, bfloat16, "bfloat16") \
  X(Float32, float, "float32")   \
  X(Float64, double, "float64")

enum class DType : uint8_t {
#define THEON_X(E, T, N) E,
  THEON_DTYPES(THEON_X)
#undef THEON_X
};
inline constexpr int kNumDTypes = 13;

enum class DKind : uint8_t { Bool, Int, UInt, Float };

std::string_view dtype_name(DType d);
// Parses "float32", "f4", "int", "floatX" (resolved through config), ...;
// throws std::invalid_argument naming the string for an unknown dtype.
DType dtype_from_name(std::string_view name);
size_t itemsize(DType d);
DKind dtype_kind(DType d);
inline bool is_float(DType d) { return dtype_kind(d) == DKind::Float; }
inline bool is_integer(DType d) { return dtype_kind(d) == DKind::Int || dtype_kind(d) == DKind::UInt; }
inline bool is_signed_int(DType d) { return dtype_kind(d) == DKind::Int; }

// NumPy 2 promotion of two dtypes (np.promote_types).
DType promote_types(DType a, DType b);
// NumPy's promotion of a sequence of dtypes (np.result_type): when the result
// is a float, floats are promoted first and each integer then joins as its
// smallest float, so (int8, uint8, float16) is float16, not a pairwise float32.
DType promote_types(const std::vector<DType>& dtypes);
// The smallest float every dtype casts to safely (the loop NumPy picks for
// float-only functions such as arctan2).
DType promote_to_float(const std::vector<DType>& dtypes);
// True when every value of `from` is representable in `to` (np.can_cast, 'safe').
bool can_cast_safely(DType from, DType to);
// The float dtype a function like exp returns for an input of dtype d
// (int8 -> float16, int16 -> float32, int32/int64 -> float64, floats unchanged).
DType float_result_type(DType d);

// The dtype a Python scalar takes when it meets an array of dtype `other`
// (NEP 50): ints adopt integer and float dtypes, floats adopt float dtypes,
// otherwise the default (int64 / float64).
enum class ScalarKind { Bool, Int, Float };
DType weak_scalar_dtype(ScalarKind kind, DType other);

template <class T>
struct dtype_of;
#define THEON_X(E, T, N)                             \
  template <>                                        \
  struct dtype_of<T> {                               \
    static constexpr DType value = DType::E;         \
  };
THEON_DTYPES(THEON_X)
#undef THEON_X
template <class T>
inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls f(T{}) with the storage type of dtype d.
template <class F>
decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
#define THEON_X(E, T, N) \
  case DType::E:         \
    return f(T{});
    THEON_DTYPES(THEON_X)
#undef THEON_X
  }
  throw std::logic_error("visit_dtype: invalid dtype");
}

}  // namespace theon
