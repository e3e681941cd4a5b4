// theon/nn/serialization.h — safe files for model weights.
//
// Two formats, both plain data (no pickle, nothing a file can make run):
//
// * The theon model file (save_model_file / load_model_file): opaque UTF-8
//   metadata (theon.nn writes a JSON description of the architecture there)
//   and named arrays of every theon dtype, bit-exact, with CRC32 checksums.
//   Layout (all integers little-endian):
//     0   "THEONMDL"                   magic
//     8   u32 version (1)              12  u32 flags (0)
//     16  u64 header_length            24  u64 metadata_length
//     32  u64 entry_count              40  u64 data_offset (multiple of 64)
//     48  u64 data_length              56  u32 data_crc (CRC32 of the data section)
//     60  u32 header_crc (CRC32 of bytes [0, 60) and [64, header_length))
//     64  metadata bytes, then one entry per array:
//         u32 name_length, name bytes, u32 dtype code, u32 rank, rank x u64 dims,
//         u64 offset (into the data section, a multiple of 64), u64 nbytes
//     zero padding up to data_offset, then the data section: each array's
//     C-order bytes at its offset, zero padding between; the file ends with it.
//   dtype codes: 1 bool, 2 int8, 3 int16, 4 int32, 5 int64, 6 uint8, 7 uint16,
//   8 uint32, 9 uint64, 10 float16, 11 bfloat16, 12 float32, 13 float64.
//   Loaded arrays are views into one 64-byte aligned buffer holding the file.
//
// * NumPy .npz (save_npz / load_npz): a zip of .npy members, written stored
//   (uncompressed), readable by numpy.load; load_npz also reads np.savez and
//   np.savez_compressed output (deflate through zlib).
//
// Loading treats the file as hostile: every length, count, rank, dimension,
// dtype and offset is checked against the file size and fixed limits before
// anything is allocated, and size arithmetic is overflow-checked, so a forged
// header cannot trigger a huge allocation, and a truncated or corrupted file
// gives std::runtime_error("theon model file '<path>': <what is wrong>") (for
// npz: "npz file '<path>': ..."), never a crash. Saving writes a temporary
// file beside the target and renames it over the target, so a failed or
// interrupted save leaves any previous file intact.
#pragma once
#include <string>
#include <vector>

#include "theon/runtime/array.h"

namespace theon::nn {

struct NamedArray {
  std::string name;
  Array value;
};

struct ModelFile {
  std::string metadata;
  std::vector<NamedArray> arrays;  // in the order they were saved
};

// Limits a loaded file must respect (saving refuses to write past them too).
inline constexpr int kMaxFileRank = 64;                  // NumPy's NPY_MAXDIMS
inline constexpr size_t kMaxFileEntries = size_t(1) << 20;
inline constexpr size_t kMaxFileNameLength = 65535;

// Writes metadata and arrays (names non-empty, unique, at most 65535 bytes;
// any dtype, rank <= 64, any strides). Throws std::runtime_error naming the
// path when the file cannot be written, std::invalid_argument for bad names.
void save_model_file(const std::string& path, const std::string& metadata, const std::vector<NamedArray>& arrays);
// Reads a file written by save_model_file, checking it as described above.
ModelFile load_model_file(const std::string& path);

// Writes a NumPy .npz archive: member "<name>.npy" per array, stored
// uncompressed, in ZIP64 form (any size or count). bfloat16 has no NumPy
// dtype and is refused (convert to float32 first, or use save_model_file).
void save_npz(const std::string& path, const std::vector<NamedArray>& arrays);
// Reads every .npy member of a .npz archive (stored or deflated; ZIP64
// sizes accepted), names without ".npy", in archive order; Fortran-order and
// big-endian arrays come back C-ordered and native. Pickled (object) arrays
// are refused.
std::vector<NamedArray> load_npz(const std::string& path);

}  // namespace theon::nn
