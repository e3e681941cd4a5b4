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

}  // namespace theon::detail
