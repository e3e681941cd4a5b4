// File plumbing shared by the theon model file and the .npz reader/writer.
#include "serialization_io.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <random>

namespace theon::nn::io {

FileBytes read_whole_file(const std::string& path, const std::string& prefix) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail(prefix, std::filesystem::exists(path, ec) ? "not a regular file" : "no such file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(prefix, std::string("cannot open: ") + std::strerror(errno));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, &std::fclose);
  if (std::fseek(f, 0, SEEK_END) != 0) fail(prefix, "cannot seek");
  long end = std::ftell(f);
  if (end < 0) fail(prefix, "cannot tell its size");
  std::rewind(f);
  FileBytes out;
  out.size = size_t(end);
  out.buf = Buffer::allocate(out.size);
  if (out.size && std::fread(out.buf->data, 1, out.size, f) != out.size)
    fail(prefix, "read failed (the file shrank or an I/O error occurred)");
  return out;
}

void Writer::bytes(const void* p, size_t n) {
  if (n == 0 || failed_) return;
  if (std::fwrite(p, 1, n, f_) != n) failed_ = true;
  n_ += n;
}

void Writer::zeros(size_t n) {
  static const char z[64] = {};
  while (n) {
    size_t k = std::min(n, sizeof z);
    bytes(z, k);
    n -= k;
  }
}

void write_atomically(const std::string& path, const std::string& prefix, const std::function<void(Writer&)>& body) {
  // A name no concurrent writer (thread or process) picks: pid, counter, random bits.
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
                    std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(prefix, std::string("cannot create '") + tmp + "': " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    int e = errno;
    ::close(fd);
    std::remove(tmp.c_str());
    fail(prefix, std::string("cannot write: ") + std::strerror(e));
  }
  try {
    Writer w(f);
    body(w);
    int e = 0;
    if (w.failed() || std::fflush(f) != 0) e = errno ? errno : EIO;
    if (!e && ::fsync(::fileno(f)) != 0) e = errno;
    if (std::fclose(f) != 0 && !e) e = errno ? errno : EIO;
    f = nullptr;
    if (e) fail(prefix, std::string("write failed: ") + std::strerror(e));
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail(prefix, std::string("cannot rename the temporary file into place: ") + std::strerror(errno));
  } catch (...) {
    if (f) std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
}

uint64_t checked_nbytes(const Shape& shape, size_t itemsize, uint64_t limit, const std::string& prefix,
                        const std::string& what) {
  uint64_t n = itemsize;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) fail(prefix, what + " has a negative dimension");
    if (!mul_ok(n, uint64_t(d), &n)) overflow = true;
  }
  // An empty array is fine whatever its other dimensions claim.
  for (int64_t d : shape)
    if (d == 0) return 0;
  if (overflow || n > limit)
    fail(prefix, what + " claims shape " + shape_str(shape) + ", more bytes than the file holds");
  return n;
}

void check_bool_bytes(const unsigned char* p, size_t n, const std::string& prefix, const std::string& what) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] > 1) fail(prefix, what + " is bool but holds a byte other than 0 or 1");
}

bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || len > n - i) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

uint32_t crc32_of(const void* p, size_t n, uint32_t crc) {
  const auto* b = static_cast<const Bytef*>(p);
  while (n) {
    uInt k = uInt(std::min<size_t>(n, 1u << 30));
    crc = uint32_t(::crc32(crc, b, k));
    b += k;
    n -= k;
  }
  return crc;
}

}  // namespace theon::nn::io
