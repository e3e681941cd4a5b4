#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "theon/datasets/fashion_mnist.h"

namespace theon {

namespace {

// Reads exactly n bytes (or fewer at end of file) through zlib, which also reads uncompressed files.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    if (!f_) throw std::runtime_error("cannot open IDX file '" + path + "'");
  }
  ~Reader() { gzclose(f_); }
  size_t read(void* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      unsigned chunk = unsigned(std::min<size_t>(n - done, 1u << 30));
      int r = gzread(f_, static_cast<char*>(dst) + done, chunk);
      if (r < 0) throw std::runtime_error("'" + path_ + "' is corrupted (gzip error)");
      if (r == 0) break;
      done += size_t(r);
    }
    return done;
  }
  void read_exact(void* dst, size_t n, const char* what) {
    if (read(dst, n) != n) throw std::runtime_error("'" + path_ + "' is truncated while reading " + what);
  }

 private:
  std::string path_;
  gzFile f_;
};

uint32_t be32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

}  // namespace

Array read_idx(const std::string& path) {
  {
    std::ifstream probe(path);
    if (!probe)
      throw std::runtime_error("IDX file '" + path + "' not found (install Debian's dataset-fashion-mnist package)");
  }
  Reader r(path);
  unsigned char magic[4];
  r.read_exact(magic, 4, "the header");
  if (magic[0] != 0 || magic[1] != 0)
    throw std::runtime_error("'" + path + "' is not an IDX file (bad magic number)");
  DType dtype;
  switch (magic[2]) {
    case 0x08: dtype = DType::UInt8; break;
    case 0x09: dtype = DType::Int8; break;
    case 0x0B: dtype = DType::Int16; break;
    case 0x0C: dtype = DType::Int32; break;
    case 0x0D: dtype = DType::Float32; break;
    case 0x0E: dtype = DType::Float64; break;
    default: throw std::runtime_error("'" + path + "' has an unknown IDX element type " + std::to_string(magic[2]));
  }
  int ndim = magic[3];
  if (ndim < 1 || ndim > 8) throw std::runtime_error("'" + path + "' declares " + std::to_string(ndim) + " dimensions");
  Shape shape(ndim);
  uint64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    unsigned char b[4];
    r.read_exact(b, 4, "the dimensions");
    shape[i] = be32(b);
    total *= uint64_t(shape[i]);
    if (total * itemsize(dtype) > (uint64_t(1) << 33))  // 8 GiB: no real IDX file is that large
      throw std::runtime_error("'" + path + "' declares an implausible size " + shape_str(shape));
  }
  Array a = Array::empty(dtype, shape);
  r.read_exact(a.data(), a.nbytes(), "the data");
  char extra;
  if (r.read(&extra, 1) != 0) throw std::runtime_error("'" + path + "' has trailing data after " + shape_str(shape));
  if (itemsize(dtype) > 1) {  // IDX is big-endian
    auto* p = static_cast<unsigned char*>(a.data());
    size_t w = itemsize(dtype);
    for (int64_t k = 0; k < a.size(); ++k)
      for (size_t i = 0; i < w / 2; ++i) std::swap(p[k * w + i], p[k * w + w - 1 - i]);
  }
  return a;
}

std::string fashion_mnist_dir() {
  if (const char* d = std::getenv("THEON_FASHION_MNIST_DIR")) return d;
  return "/usr/share/datasets/fashion-mnist";
}

static Array images(const std::string& path) {
  Array raw = read_idx(path);
  if (raw.dtype() != DType::UInt8 || raw.ndim() != 3)
    throw std::runtime_error("'" + path + "' should hold uint8 images (n, rows, cols), got " + shape_str(raw.shape()));
  Array f = Array::empty(DType::Float32, {raw.shape()[0], raw.shape()[1] * raw.shape()[2]});
  const uint8_t* s = raw.data_as<uint8_t>();
  float* d = f.data_as<float>();
  for (int64_t i = 0; i < f.size(); ++i) d[i] = float(s[i]) / 255.0f;
  return f;
}

static Array labels(const std::string& path, int64_t n) {
  Array raw = read_idx(path);
  if (raw.dtype() != DType::UInt8 || raw.ndim() != 1 || raw.shape()[0] != n)
    throw std::runtime_error("'" + path + "' should hold " + std::to_string(n) + " uint8 labels, got " +
                             shape_str(raw.shape()));
  return raw.astype(DType::Int64);
}

Dataset fashion_mnist(const std::string& dir0) {
  std::string dir = dir0.empty() ? fashion_mnist_dir() : dir0;
  Dataset d;
  d.train_images = images(dir + "/train-images-idx3-ubyte.gz");
  d.train_labels = labels(dir + "/train-labels-idx1-ubyte.gz", d.train_images.shape()[0]);
  d.test_images = images(dir + "/t10k-images-idx3-ubyte.gz");
  d.test_labels = labels(dir + "/t10k-labels-idx1-ubyte.gz", d.test_images.shape()[0]);
  return d;
}

}  // namespace theon
