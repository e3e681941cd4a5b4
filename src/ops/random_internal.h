// Internal: checks shared by RandomOp's type inference and its perform.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "theon/ops/random.h"

namespace theon::detail {

// "[random_uniform]", "[random_integers]", ...: the prefix of error messages.
inline std::string random_tag(RandomDist d) {
  return d == RandomDist::Integers ? "[random_integers]"
                                   : std::string("[random_") + random_dist_name(d) + "]";
}

// Validates parameter values (nullopt = not known yet): low <= high, std >= 0,
// n >= 0, p in [0, 1], choice's population and probabilities, permutation's n,
// and that integer results fit `dtype`. `nsamples` (when known) is the number
// of values drawn, for choice without replacement. Throws
// std::invalid_argument prefixed with `tag`.
void check_random_params(RandomDist dist, DType dtype, bool replace,
                         const std::vector<std::optional<Array>>& params,
                         std::optional<int64_t> nsamples, const std::string& tag);

// The shape of RandomOp's sample from its `size` input and its parameters,
// with perform's checks: size non-negative; the parameters broadcast to it
// (or, for an empty size, to each other: their shape is the sample's) except
// for choice and permutation; its rank the op's `ndim` (permutation: ndim - 1,
// the row dim is added later); its element count (set in `n`) fits int64.
// Throws std::invalid_argument prefixed with `tag`.
Shape random_sample_shape(RandomDist dist, int ndim, const Array& size,
                          const std::vector<Array>& params, const std::string& tag, int64_t& n);

}  // namespace theon::detail
