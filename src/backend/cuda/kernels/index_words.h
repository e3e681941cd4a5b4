// The argument words of the advanced-indexing program (index_program.cpp),
// shared with the host side that packs them (indexing.cpp).
#pragma once

namespace theon::cuda::kernels::kdata {

inline constexpr int kIterDims = 10;  // dims of the loop: broadcast index dims, then the other dims
inline constexpr int kMaxIndices = 8;  // index arrays (one per indexed dim)
// Word layout of the indexing program.
inline constexpr int W_N = 0, W_ND = 1, W_SHAPE = 2, W_ERR = W_SHAPE + kIterDims, W_DT = W_ERR + 1,
                     W_ISZ = W_DT + 1, W_DST = W_ISZ + 1, W_DSTST = W_DST + 1,
                     W_SRC = W_DSTST + kIterDims, W_SRCST = W_SRC + 1, W_K = W_SRCST + kIterDims,
                     W_IDX = W_K + 1, kIdxWords = 4 + kIterDims,
                     kWords = W_IDX + kMaxIndices * kIdxWords;

}  // namespace theon::cuda::kernels::kdata
