// theon/ops/reduce.h — reductions over axes: sum, prod, mean, max, min, all,
// any, argmax, argmin as one Op; var, std and logsumexp composed from them.
//
// `axis` follows NumPy: std::nullopt reduces every axis, otherwise a list of
// (possibly negative) axes; repeated axes are an error. Result dtypes follow
// NumPy (sum of int8 is int64, mean of int is float64, ...).
#pragma once
#include <optional>

#include "theon/graph/node.h"

namespace theon {

enum class ReduceKind : uint8_t { Sum, Prod, Mean, Max, Min, All, Any, ArgMax, ArgMin };
using Axes = std::optional<std::vector<int>>;

class Reduce : public Op {
 public:
  // `axes` are normalised (sorted, non-negative) by the constructor helpers below.
  // `initial` (Max/Min only) is NumPy's initial=: it takes part in the
  // reduction, so reducing nothing gives it instead of an error.
  Reduce(ReduceKind kind, std::vector<int> axes, bool keepdims, std::optional<double> initial = std::nullopt)
      : kind_(kind), axes_(std::move(axes)), keepdims_(keepdims), initial_(initial) {}
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  ReduceKind kind() const { return kind_; }
  const std::vector<int>& axes() const { return axes_; }
  bool keepdims() const { return keepdims_; }
  const std::optional<double>& initial() const { return initial_; }

 private:
  bool leading_axes_fast_path(const Array& x, int64_t n, const Shape& kept, const Shape& out_shape,
                              std::vector<Array>& out) const;
  ReduceKind kind_;
  std::vector<int> axes_;
  bool keepdims_;
  std::optional<double> initial_;
};

DType reduce_result_dtype(ReduceKind kind, DType input);
// Normalises NumPy-style axes against ndim (nullopt: all), throwing with the op name.
std::vector<int> normalize_axes(const Axes& axis, int ndim, const char* who);

Var reduce(ReduceKind kind, const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var sum(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var prod(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var mean(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var max(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var min(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var all(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
Var any(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);
// argmax/argmin take one axis or none (flattened), as NumPy.
Var argmax(const Var& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Var argmin(const Var& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Var var(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false, int ddof = 0);
Var std(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false, int ddof = 0);
Var logsumexp(const Var& x, const Axes& axis = std::nullopt, bool keepdims = false);

}  // namespace theon
