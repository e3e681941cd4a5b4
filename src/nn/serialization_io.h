// Private helpers of the weight-file readers and writers: whole-file reads into
// an aligned buffer, atomic writes (temporary file + rename), little-endian
// integers and a bounds-checked reader over bytes that may be hostile.
#pragma once
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "theon/runtime/array.h"

namespace theon::nn::io {

static_assert(std::endian::native == std::endian::little,
              "theon's weight files store little-endian data and are read by memcpy");

// Throws std::runtime_error("<prefix>: <what>"), where prefix names the file.
[[noreturn]] inline void fail(const std::string& prefix, const std::string& what) {
  throw std::runtime_error(prefix + ": " + what);
}

// The whole file, in a 64-byte aligned buffer (so arrays at 64-aligned
// offsets are aligned views). Throws naming the file when it cannot be read.
struct FileBytes {
  std::shared_ptr<Buffer> buf;
  size_t size = 0;
  const unsigned char* data() const { return static_cast<const unsigned char*>(buf->data); }
};
FileBytes read_whole_file(const std::string& path, const std::string& prefix);

// Sequential binary output that counts what it wrote.
class Writer {
 public:
  explicit Writer(std::FILE* f) : f_(f) {}
  void bytes(const void* p, size_t n);
  void zeros(size_t n);
  void u16(uint16_t v) { bytes(&v, 2); }
  void u32(uint32_t v) { bytes(&v, 4); }
  void u64(uint64_t v) { bytes(&v, 8); }
  uint64_t written() const { return n_; }
  bool failed() const { return failed_; }

 private:
  std::FILE* f_;
  uint64_t n_ = 0;
  bool failed_ = false;
};

// Writes `path` through `body` into a temporary file in the same directory,
// flushed to disk, then renamed over `path`. On any failure the temporary
// file is removed and `path` is untouched; errors name the file via prefix.
void write_atomically(const std::string& path, const std::string& prefix, const std::function<void(Writer&)>& body);

// Bounds-checked little-endian reads over [data, data + size).
class Reader {
 public:
  Reader(const unsigned char* data, size_t size, std::string prefix)
      : p_(data), size_(size), prefix_(std::move(prefix)) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  void seek(size_t pos, const char* what) {
    if (pos > size_) fail(prefix_, std::string("truncated: ") + what + " lies past the end");
    pos_ = pos;
  }
  const unsigned char* take(size_t n, const char* what) {
    if (n > size_ - pos_) fail(prefix_, std::string("truncated: ") + what + " runs past the end");
    const unsigned char* q = p_ + pos_;
    pos_ += n;
    return q;
  }
  template <class T>
  T get(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  const std::string& prefix() const { return prefix_; }

 private:
  const unsigned char* p_;
  size_t size_, pos_ = 0;
  std::string prefix_;
};

// a * b, or false when it overflows uint64.
inline bool mul_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }
inline bool add_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

// Product of dims times itemsize, checked: fails naming `what` when a dim is
// negative or the byte count overflows or exceeds `limit`.
uint64_t checked_nbytes(const Shape& shape, size_t itemsize, uint64_t limit, const std::string& prefix,
                        const std::string& what);

// Fails when a bool array holds a byte other than 0 or 1 (C++ bool must not).
void check_bool_bytes(const unsigned char* p, size_t n, const std::string& prefix, const std::string& what);

// True when `s` is well-formed UTF-8 (names become Python str).
bool valid_utf8(std::string_view s);

uint32_t crc32_of(const void* p, size_t n, uint32_t crc = 0);

}  // namespace theon::nn::io
