// The on-disk cache of compiled kernels (internal to the CUDA backend; the
// emulator's cache of host libraries shares its directory rule and key hash).
//
// One file per (source, architecture, NVRTC version): a header with a magic
// string, the 128-bit key, the payload's size and checksum, then the
// compiled image. A file that does not check out (truncated, overwritten,
// another key) is treated as absent. Files are written to a unique temporary
// name and renamed into place, so a concurrent reader sees the old file, no
// file, or the complete new one, never a partial write.
#pragma once
#include <optional>
#include <string>

namespace theon::cuda::detail {

// theon's cache directory for `name`: $THEON_CACHE_DIR/name, else
// $XDG_CACHE_HOME/theon/name, else ~/.cache/theon/name; "" when none is set.
std::string cache_subdir(const std::string& name);
// 32 hex digits: two independent 64-bit hashes of `key`.
std::string hash_key(const std::string& key);
// The cached image for key_hash in dir, or nullopt (absent or corrupt; `corrupt` set for the
// latter).
std::optional<std::string> disk_cache_read(const std::string& path, const std::string& key_hash,
                                           bool& corrupt);
// Stores image atomically; returns false (and leaves no file) when the directory is not writable.
bool disk_cache_write(const std::string& path, const std::string& key_hash,
                      const std::string& image);

}  // namespace theon::cuda::detail
