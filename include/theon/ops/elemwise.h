// theon/ops/elemwise.h — elementwise ops, declared once in elemwise.def.
//
// Every scalar operation of the table is lifted to tensors by one Op class,
// Elemwise, which broadcasts its inputs as NumPy does and computes the result
// dtype by the row's type rule. The table also generates the C++ functions
// (theon::add, theon::exp, ...), their Python bindings and the test lists.
#pragma once
#include "theon/graph/node.h"

namespace theon {

enum class ScalarOpId : uint8_t {
#define THEON_ELEMWISE(name, arity, rule) name,
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE
};

enum class TypeRule : uint8_t { SAME, NOBOOL, BOOL_INT8, FLOAT, DIV, CMP, PRED, BITWISE, WHERE };

struct ScalarOpInfo {
  ScalarOpId id;
  const char* name;
  int arity;
  TypeRule rule;
};

// All rows of the table, in order.
const std::vector<ScalarOpInfo>& scalar_ops();
const ScalarOpInfo& scalar_op_info(ScalarOpId id);
// Looks a row up by name ("add", "exp"); throws for an unknown name.
const ScalarOpInfo& scalar_op_info(const std::string& name);
// Result dtype of the op for the given input dtypes; throws when the op has no
// loop for them (e.g. bitwise on floats), naming the op and the dtypes.
DType elemwise_result_dtype(ScalarOpId id, const std::vector<DType>& inputs);
// The dtype inputs are converted to before the scalar function runs.
DType elemwise_compute_dtype(ScalarOpId id, const std::vector<DType>& inputs);

// The dtype the scalar loop runs in: the compute dtype, except that float16
// and bfloat16 are computed in float32 (and the result rounded once).
DType elemwise_kernel_dtype(ScalarOpId id, const std::vector<DType>& inputs);
// True for comparisons of a signed with an unsigned 64-bit-range integer,
// which Elemwise computes exactly in a loop of their own (not in the promoted
// float64, where 2**63 - 1 == 2**63).
bool elemwise_is_exact_int_cmp(ScalarOpId id, const std::vector<DType>& inputs);
// Static broadcasting of input types (a known non-1 dim wins); throws
// std::invalid_argument prefixed with [who] naming the shapes when they clash.
std::vector<int64_t> broadcast_static_shape(const std::string& who, const std::vector<Var>& inputs);

namespace detail {
// Elemwise's scalar loop over one run of n elements: out[i] = f(ins[0][i], ...),
// where out and each ins[k] advance by their own byte stride. The operands
// must already be in the kernel dtype `kern` (elemwise_kernel_dtype; the
// condition of switch_ too), and out holds bool for comparisons and
// predicates, else `kern`. Fused kernels call it on blocks of a larger loop.
void elemwise_run_1d(ScalarOpId id, DType kern, int64_t n, char* out, int64_t out_stride,
                     const char* const* ins, const int64_t* in_strides);
}  // namespace detail

class Elemwise : public Op {
 public:
  // inplace_input >= 0: the inplace variant, which may write its result into
  // that input's buffer when, at run time, nothing else holds the buffer, its
  // shape is the output's, it is C-contiguous and of the kernel's output dtype.
  explicit Elemwise(ScalarOpId id, int inplace_input = -1) : id_(id), inplace_(inplace_input) {}
  ScalarOpId scalar_op() const { return id_; }
  int inplace_input() const { return inplace_; }
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node,
                                        const ShapeExprs& input_shapes) const override;

 private:
  ScalarOpId id_;
  int inplace_;
};

// Converts to another dtype (NumPy astype semantics, unsafe casts allowed).
class Cast : public Op {
 public:
  explicit Cast(DType to) : to_(to) {}
  DType to() const { return to_; }
  std::string name() const override;
  std::string props() const override { return std::string(dtype_name(to_)); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node,
                                        const ShapeExprs& input_shapes) const override;

 private:
  DType to_;
};

Var elemwise(ScalarOpId id, std::vector<Var> inputs);
// Runs one elementwise op on arrays (used by ops that compose elementwise steps).
// inplace_input >= 0: write into that input's buffer when it is safe (see Elemwise).
Array elemwise_eval(ScalarOpId id, const std::vector<Array>& inputs, int inplace_input = -1);
Var cast(const Var& x, DType dtype);

// One function per table row: theon::add(a, b), theon::exp(x), theon::clip(x, lo, hi)...
#define THEON_ELEMWISE(name, arity, rule) THEON_ELEMWISE_DECL_##arity(name)
#define THEON_ELEMWISE_DECL_1(name) Var name(const Var& a);
#define THEON_ELEMWISE_DECL_2(name) Var name(const Var& a, const Var& b);
#define THEON_ELEMWISE_DECL_3(name) Var name(const Var& a, const Var& b, const Var& c);
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE

inline Var where(const Var& c, const Var& a, const Var& b) { return switch_(c, a, b); }

Var operator+(const Var& a, const Var& b);
Var operator-(const Var& a, const Var& b);
Var operator*(const Var& a, const Var& b);
Var operator/(const Var& a, const Var& b);
Var operator%(const Var& a, const Var& b);
Var operator-(const Var& a);
// Scalars on either side follow NumPy's weak typing: matrix(float32) * 2.0 stays float32.
Var operator+(const Var& a, double b);
Var operator+(double a, const Var& b);
Var operator-(const Var& a, double b);
Var operator-(double a, const Var& b);
Var operator*(const Var& a, double b);
Var operator*(double a, const Var& b);
Var operator/(const Var& a, double b);
Var operator/(double a, const Var& b);
Var operator+(const Var& a, int b);
Var operator+(int a, const Var& b);
Var operator-(const Var& a, int b);
Var operator-(int a, const Var& b);
Var operator*(const Var& a, int b);
Var operator*(int a, const Var& b);
Var operator/(const Var& a, int b);
Var operator/(int a, const Var& b);

}  // namespace theon
