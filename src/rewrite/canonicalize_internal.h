// Private to the canonicalize phase: the registration helpers of its files
// and the small graph queries several of its rewrites share.
#pragma once
#include <optional>
#include <vector>

#include "theon/rewrite/rewriter.h"

namespace theon::detail {

// One per file of the phase (called by register_canonicalize_rewrites).
void register_canonical_arith(RewriteDB& db);      // canonicalize_arith.cpp
void register_canonical_views(RewriteDB& db);      // canonicalize_views.cpp: dimshuffle, reshape, cast
void register_canonical_shape(RewriteDB& db);      // canonicalize_shape.cpp: Shape / Shape_i
void register_canonical_alloc(RewriteDB& db);      // canonicalize_alloc.cpp
void register_canonical_subtensor(RewriteDB& db);  // canonicalize_subtensor.cpp

// True when `v` is read by exactly one node and is not an output of the graph
// (so the node computing it may be folded into its reader).
bool single_reader(const FunctionGraph& fg, const Var& v);
// True when every static dim of `t` is 1 (a scalar-like value; rank 0 included).
bool all_ones(const TensorType& t);
// The value of a constant of one element (also through DimShuffle and Cast of
// one), as a 0-d array of its dtype; nullopt otherwise.
std::optional<Array> size_one_value(const Var& v);
// Length of dim `d` of `x` without computing x where it can: a constant when
// the dim is static, otherwise a Shape_i node of x (one already in the graph
// when there is one).
Var dim_of(const FunctionGraph& fg, const Var& x, int d);

}  // namespace theon::detail
