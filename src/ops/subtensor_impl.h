// Internal helpers shared by the indexing ops (subtensor.cpp,
// advanced_subtensor.cpp, inc_subtensor.cpp): static typing of x[idx], the
// runtime view for basic indices, and the plan plus gather/scatter loops for
// advanced indices.
#pragma once
#include <string>
#include <vector>

#include "theon/ops/subtensor.h"

namespace theon::subtensor_detail {

// Throws std::out_of_range (Python IndexError) "[who] msg".
[[noreturn]] void index_error(const std::string& who, const std::string& msg);
// "index 5 is out of bounds for axis 0 with size 3"
std::string out_of_bounds_msg(int64_t i, int axis, int64_t size);

// Static type of x[idx]; `ins[first...]` are the index inputs the pattern reads.
// Validates ranks, dtypes and every bound known at build time.
TensorType index_result_type(const std::string& who, const TensorType& x, const IndexPattern& p,
                             const std::vector<Var>& ins, size_t first);

// Symbolic shape of x[idx] for shape inference (undefined where not derivable).
std::vector<Var> index_result_shape(const ApplyNode& node, const ShapeExprs& in,
                                    const IndexPattern& p, size_t first,
                                    const TensorType& out);
// Symbolic length of a slice of a dim of length n (bounds from node.inputs[k...]).
Var slice_length_expr(const IndexEntry& e, const Var& n, const std::vector<Var>& inputs, size_t k);

// x[idx] for a pattern without arrays: a view of x.
Array basic_view(const std::string& who, const Array& x, const IndexPattern& p,
                 const std::vector<Array>& ins, size_t first);

// Runtime form of an advanced index: a view v of x with slices and newaxes
// applied, the dims of v indexed by arrays, and the index arrays broadcast
// to one shape, normalised to non-negative int64 and bounds-checked.
struct AdvPlan {
  Array v;
  std::vector<int> adv_dims;  // dims of v indexed by arrays, increasing
  std::vector<Array> idx;     // one C-contiguous int64 array of shape bshape per adv dim
  Shape bshape;
  std::vector<int> rest_dims;  // the other dims of v, in order
  int insert_at = 0;           // position of the bshape dims among the rest dims in the result
  Shape out_shape;
};
// The shape the index arrays' shapes broadcast to; throws IndexError's
// "shape mismatch" naming them all where they do not.
Shape broadcast_index_shapes(const std::string& who, const std::vector<Shape>& shapes);
// The dims of v not indexed by arrays (in order), and where the index dims go
// among them in the result (in place when the indexed dims are adjacent, else
// first). Shared with the CUDA indexing kernels' plan.
void place_index_dims(int ndim, const std::vector<int>& adv_dims, std::vector<int>& rest_dims,
                      int& insert_at);
AdvPlan make_adv_plan(const std::string& who, const Array& x, const IndexPattern& p,
                      const std::vector<Array>& ins, size_t first);
// x[idx] as a new C-contiguous array.
Array adv_gather(const AdvPlan& plan);
// x[idx] = y (accumulate: x[idx] += y with np.add.at semantics) on plan.v in
// place; y has v's dtype and the plan's out_shape (broadcast views allowed).
void adv_scatter(const AdvPlan& plan, const Array& y, bool accumulate);

}  // namespace theon::subtensor_detail
