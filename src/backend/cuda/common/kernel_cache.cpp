// The on-disk kernel cache (see kernel_cache.h).
#include "kernel_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace theon::cuda::detail {

namespace {

constexpr char kMagic[8] = {'T', 'H', 'E', 'O', 'N', 'K', 'C', '1'};
constexpr size_t kHeader = 8 + 32 + 8 + 8;  // magic, key hash (hex), size, checksum

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// A second, independent hash: FNV over the bytes, then a murmur finalizer per 8 bytes mixed in.
uint64_t mix_hash(const std::string& s) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  for (size_t i = 0; i < s.size(); ++i) {
    h = (h ^ uint64_t(static_cast<unsigned char>(s[i]))) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string cache_subdir(const std::string& name) {
  if (const char* d = std::getenv("THEON_CACHE_DIR"); d && *d) return std::string(d) + "/" + name;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d)
    return std::string(d) + "/theon/" + name;
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/theon/" + name;
  return "";
}

std::string hash_key(const std::string& key) {
  return hex(fnv1a(key, 0xcbf29ce484222325ull)) + hex(mix_hash(key));
}

std::optional<std::string> disk_cache_read(const std::string& path, const std::string& key_hash,
                                           bool& corrupt) {
  corrupt = false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  corrupt = true;
  if (data.size() < kHeader || std::memcmp(data.data(), kMagic, 8) != 0) return std::nullopt;
  if (data.compare(8, 32, key_hash) != 0) return std::nullopt;
  const uint64_t size = get64(data.data() + 40), sum = get64(data.data() + 48);
  if (data.size() - kHeader != size) return std::nullopt;
  std::string image = data.substr(kHeader);
  if (fnv1a(image, 0xcbf29ce484222325ull) != sum) return std::nullopt;
  corrupt = false;
  return image;
}

bool disk_cache_write(const std::string& path, const std::string& key_hash,
                      const std::string& image) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return false;
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  std::string data(kMagic, 8);
  data += key_hash;
  put64(data, image.size());
  put64(data, fnv1a(image, 0xcbf29ce484222325ull));
  data += image;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), std::streamsize(data.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);  // atomic on POSIX: readers see the old or the new file
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

}  // namespace theon::cuda::detail
