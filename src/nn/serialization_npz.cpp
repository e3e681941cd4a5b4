// NumPy .npz archives: a zip of .npy members. The writer stores members
// uncompressed; the reader takes stored or deflated members (np.savez and
// np.savez_compressed) and checks every zip and .npy field before it
// allocates, as for the theon model file.
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "serialization_io.h"
#include "theon/nn/serialization.h"

namespace theon::nn {

namespace {

std::string prefix_of(const std::string& path) { return "npz file '" + path + "'"; }

// ---- .npy headers ----

// NumPy's type string of each dtype with a NumPy equivalent.
const char* npy_descr(DType d) {
  switch (d) {
    case DType::Bool: return "|b1";
    case DType::Int8: return "|i1";
    case DType::Int16: return "<i2";
    case DType::Int32: return "<i4";
    case DType::Int64: return "<i8";
    case DType::UInt8: return "|u1";
    case DType::UInt16: return "<u2";
    case DType::UInt32: return "<u4";
    case DType::UInt64: return "<u8";
    case DType::Float16: return "<f2";
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::BFloat16: return nullptr;
  }
  return nullptr;
}

// The .npy preamble (magic, version 1.0, header length, dict padded with
// spaces and a newline to a multiple of 64 bytes, as NumPy writes it).
std::string npy_header(const Array& a) {
  std::string dict = std::string("{'descr': '") + npy_descr(a.dtype()) + "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < a.ndim(); ++i) dict += std::to_string(a.shape()[size_t(i)]) + (a.ndim() == 1 ? "," : i + 1 < a.ndim() ? ", " : "");
  dict += "), }";
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  uint16_t n = uint16_t(dict.size());
  out.append(reinterpret_cast<const char*>(&n), 2);
  return out + dict;
}

// A parser of the Python literal NumPy writes as the header: a dict with
// 'descr' (a type string), 'fortran_order' (a bool) and 'shape' (a tuple of ints).
struct NpyHeader {
  DType dtype = DType::Float64;
  bool swap = false;  // big-endian data
  bool fortran = false;
  Shape shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view s, std::string prefix) : s_(s), prefix_(std::move(prefix)) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = string_literal();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') bad("only simple dtypes are supported (structured dtype in 'descr')");
        descr(string_literal(), h);
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (word("True")) h.fortran = true;
        else if (word("False")) h.fortran = false;
        else bad("'fortran_order' is not True or False");
        seen_order = true;
      } else if (key == "shape") {
        h.shape = shape();
        seen_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
    }
    if (!seen_descr || !seen_order || !seen_shape) bad("'descr', 'fortran_order' or 'shape' is missing");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) { io::fail(prefix_, "bad .npy header: " + what); }
  char peek() {
    if (i_ >= s_.size()) bad("it ends early");
    return s_[i_];
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  std::string string_literal() {
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a string");
    size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  Shape shape() {
    Shape out;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("a dimension is not a non-negative integer");
      uint64_t v = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (!io::mul_ok(v, 10, &v) || !io::add_ok(v, uint64_t(s_[i_] - '0'), &v) || v > uint64_t(INT64_MAX))
          bad("a dimension is too large");
        ++i_;
      }
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs
      out.push_back(int64_t(v));
      if (out.size() > size_t(kMaxFileRank)) bad("rank above 64");
      skip_ws();
      if (peek() == ',') ++i_;
      else if (peek() != ')') bad("expected ',' or ')' in the shape");
    }
    ++i_;
    return out;
  }
  void descr(const std::string& d, NpyHeader& h) {
    if (d.size() < 2) bad("unknown dtype '" + d + "'");
    char order = d[0];
    std::string t = d.substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
      order = '=';
      t = d;
    }
    static const std::pair<const char*, DType> table[] = {
        {"b1", DType::Bool},    {"i1", DType::Int8},    {"i2", DType::Int16},   {"i4", DType::Int32},
        {"i8", DType::Int64},   {"u1", DType::UInt8},   {"u2", DType::UInt16},  {"u4", DType::UInt32},
        {"u8", DType::UInt64},  {"f2", DType::Float16}, {"f4", DType::Float32}, {"f8", DType::Float64}};
    for (const auto& [name, dt] : table)
      if (t == name) {
        h.dtype = dt;
        h.swap = order == '>' && itemsize(dt) > 1;
        return;
      }
    if (t == "O" || t.rfind("O", 0) == 0) bad("object arrays (pickled data) are refused");
    bad("dtype '" + d + "' is not supported");
  }

  std::string_view s_;
  std::string prefix_;
  size_t i_ = 0;
};

void byteswap(Array& a) {
  size_t k = a.itemsize();
  auto* p = static_cast<unsigned char*>(a.data());
  for (int64_t i = 0; i < a.size(); ++i) std::reverse(p + size_t(i) * k, p + size_t(i + 1) * k);
}

// One .npy member's bytes -> a new C-contiguous Array.
Array parse_npy(const unsigned char* p, size_t n, const std::string& prefix) {
  io::Reader r(p, n, prefix);
  const unsigned char* magic = r.take(8, "the .npy magic");
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) io::fail(prefix, "a member is not a .npy array");
  int major = magic[6];
  if (major < 1 || major > 3) io::fail(prefix, ".npy format version " + std::to_string(major) + " is not supported");
  uint64_t hlen = major == 1 ? r.get<uint16_t>("the .npy header length") : r.get<uint32_t>("the .npy header length");
  const unsigned char* hp = r.take(hlen, "the .npy header");
  NpyHeader h = HeaderParser(std::string_view(reinterpret_cast<const char*>(hp), hlen), prefix).parse();
  uint64_t nbytes = io::checked_nbytes(h.shape, itemsize(h.dtype), r.remaining(), prefix, "an array");
  if (nbytes != r.remaining())
    io::fail(prefix, "an array of shape " + shape_str(h.shape) + " should hold " + std::to_string(nbytes) +
                         " bytes of data, its member has " + std::to_string(r.remaining()));
  const unsigned char* data = r.take(nbytes, "array data");
  if (h.dtype == DType::Bool) io::check_bool_bytes(data, nbytes, prefix, "an array");
  Shape stored = h.shape;
  if (h.fortran) std::reverse(stored.begin(), stored.end());
  Array a = Array::empty(h.dtype, stored);
  if (nbytes) std::memcpy(a.data(), data, nbytes);
  if (h.swap) byteswap(a);
  return h.fortran ? a.transpose().copy() : a;
}

// ---- zip ----

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, as zipfile writes without a date

struct Member {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

}  // namespace

void save_npz(const std::string& path, const std::vector<NamedArray>& arrays) {
  const std::string prefix = prefix_of(path);
  std::unordered_set<std::string> names;
  struct Out {
    std::string name, header;
    Array data;
    uint32_t crc;
    uint64_t size, offset;
  };
  std::vector<Out> members;
  uint64_t offset = 0;
  for (const auto& [name, value] : arrays) {
    if (name.empty() || name.size() > 60000)
      throw std::invalid_argument(prefix + ": array names must have 1 to 60000 bytes");
    if (!io::valid_utf8(name)) throw std::invalid_argument(prefix + ": array names must be UTF-8 text");
    if (!names.insert(name).second) throw std::invalid_argument(prefix + ": array name '" + name + "' is used twice");
    if (!value.defined()) throw std::invalid_argument(prefix + ": array '" + name + "' is undefined");
    if (!npy_descr(value.dtype()))
      throw std::invalid_argument(prefix + ": array '" + name + "' is " + std::string(dtype_name(value.dtype())) +
                                  ", which NumPy cannot store; convert it (e.g. to float32) or use save_model_file");
    if (value.ndim() > kMaxFileRank)
      throw std::invalid_argument(prefix + ": array '" + name + "' has rank above 64");
    Out m{name + ".npy", npy_header(value), value.contiguous(), 0, 0, offset};
    m.size = m.header.size() + m.data.nbytes();
    m.crc = io::crc32_of(m.header.data(), m.header.size());
    m.crc = io::crc32_of(m.data.data(), m.data.nbytes(), m.crc);
    offset += 30 + 20 + m.name.size() + m.size;
    members.push_back(std::move(m));
  }
  // Always ZIP64 (as NumPy's own local headers): one layout for any size or
  // count, the 32-bit fields set to 0xFFFFFFFF and the real values in the
  // ZIP64 extra fields and end record.
  uint64_t cd_size = 0;
  for (const auto& m : members) cd_size += 46 + 28 + m.name.size();
  io::write_atomically(path, prefix, [&](io::Writer& w) {
    auto common = [&](const Out& m, uint16_t extra_len) {
      w.u16(45);  // version needed: 4.5 (ZIP64)
      w.u16(0);   // flags
      w.u16(0);   // stored
      w.u16(0);   // time
      w.u16(kDosDate);
      w.u32(m.crc);
      w.u32(0xFFFFFFFF);  // compressed size: in the ZIP64 extra field
      w.u32(0xFFFFFFFF);  // uncompressed size: likewise
      w.u16(uint16_t(m.name.size()));
      w.u16(extra_len);
    };
    for (const auto& m : members) {
      w.u32(kLocalSig);
      common(m, 20);
      w.bytes(m.name.data(), m.name.size());
      w.u16(0x0001);
      w.u16(16);
      w.u64(m.size);
      w.u64(m.size);
      w.bytes(m.header.data(), m.header.size());
      w.bytes(m.data.data(), m.data.nbytes());
    }
    for (const auto& m : members) {
      w.u32(kCentralSig);
      w.u16(45);  // made by: 4.5, MS-DOS attributes
      common(m, 28);
      w.u16(0);  // comment length
      w.u16(0);  // disk
      w.u16(0);  // internal attributes
      w.u32(0);  // external attributes
      w.u32(0xFFFFFFFF);  // local header offset: in the ZIP64 extra field
      w.bytes(m.name.data(), m.name.size());
      w.u16(0x0001);
      w.u16(24);
      w.u64(m.size);
      w.u64(m.size);
      w.u64(m.offset);
    }
    uint64_t zip64_end = offset + cd_size;
    w.u32(kZip64EndSig);
    w.u64(44);  // size of the rest of this record
    w.u16(45);
    w.u16(45);
    w.u32(0);
    w.u32(0);
    w.u64(members.size());
    w.u64(members.size());
    w.u64(cd_size);
    w.u64(offset);
    w.u32(kZip64LocatorSig);
    w.u32(0);
    w.u64(zip64_end);
    w.u32(1);  // total disks
    w.u32(kEndSig);
    w.u16(0);
    w.u16(0);
    w.u16(0xFFFF);
    w.u16(0xFFFF);
    w.u32(0xFFFFFFFF);
    w.u32(0xFFFFFFFF);
    w.u16(0);
  });
}

std::vector<NamedArray> load_npz(const std::string& path) {
  const std::string prefix = prefix_of(path);
  io::FileBytes file = io::read_whole_file(path, prefix);
  const unsigned char* bytes = file.data();
  const size_t size = file.size;
  // The end-of-central-directory record: the last 22+ bytes, before a comment of up to 64 KiB.
  if (size < 22) io::fail(prefix, "truncated or not a zip archive (too short)");
  size_t eocd = size;
  for (size_t k = size - 22 + 1; k-- > 0 && size - k <= 22 + 0xFFFF;) {
    uint32_t sig;
    std::memcpy(&sig, bytes + k, 4);
    if (sig == kEndSig) {
      eocd = k;
      break;
    }
  }
  if (eocd == size) io::fail(prefix, "truncated or not a zip archive (no end-of-central-directory record)");
  io::Reader e(bytes, size, prefix);
  e.seek(eocd + 10, "the end record");
  uint64_t count = e.get<uint16_t>("the entry count");
  uint64_t cd_size = e.get<uint32_t>("the central directory size");
  uint64_t cd_offset = e.get<uint32_t>("the central directory offset");
  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
    if (eocd < 20) io::fail(prefix, "truncated: ZIP64 locator missing");
    io::Reader l(bytes, size, prefix);
    l.seek(eocd - 20, "the ZIP64 locator");
    if (l.get<uint32_t>("the ZIP64 locator") != kZip64LocatorSig) io::fail(prefix, "corrupted: ZIP64 locator missing");
    l.get<uint32_t>("the ZIP64 locator");
    uint64_t z = l.get<uint64_t>("the ZIP64 end record offset");
    io::Reader zr(bytes, size, prefix);
    zr.seek(z, "the ZIP64 end record");
    if (zr.get<uint32_t>("the ZIP64 end record") != kZip64EndSig) io::fail(prefix, "corrupted: bad ZIP64 end record");
    zr.take(20, "the ZIP64 end record");
    zr.get<uint64_t>("the ZIP64 end record");
    count = zr.get<uint64_t>("the ZIP64 entry count");
    cd_size = zr.get<uint64_t>("the ZIP64 central directory size");
    cd_offset = zr.get<uint64_t>("the ZIP64 central directory offset");
  }
  uint64_t cd_end;
  if (!io::add_ok(cd_offset, cd_size, &cd_end) || cd_end > size)
    io::fail(prefix, "truncated or corrupted: the central directory lies outside the file");
  if (count > cd_size / 46) io::fail(prefix, "corrupted: " + std::to_string(count) + " entries cannot fit the directory");

  std::vector<Member> members;
  io::Reader c(bytes, cd_end, prefix);
  c.seek(cd_offset, "the central directory");
  for (uint64_t i = 0; i < count; ++i) {
    if (c.get<uint32_t>("a directory entry") != kCentralSig) io::fail(prefix, "corrupted: bad directory entry");
    c.take(4, "a directory entry");
    uint16_t flags = c.get<uint16_t>("a directory entry");
    Member m;
    m.method = c.get<uint16_t>("a directory entry");
    c.take(4, "a directory entry");
    m.crc = c.get<uint32_t>("a directory entry");
    m.csize = c.get<uint32_t>("a directory entry");
    m.usize = c.get<uint32_t>("a directory entry");
    uint16_t name_len = c.get<uint16_t>("a directory entry"), extra_len = c.get<uint16_t>("a directory entry");
    uint16_t comment_len = c.get<uint16_t>("a directory entry");
    c.take(8, "a directory entry");
    m.offset = c.get<uint32_t>("a directory entry");
    const unsigned char* nm = c.take(name_len, "a member name");
    m.name.assign(reinterpret_cast<const char*>(nm), name_len);
    io::Reader x(c.take(extra_len, "a member's extra field"), extra_len, prefix);
    while (x.remaining() >= 4) {
      uint16_t id = x.get<uint16_t>("an extra field"), len = x.get<uint16_t>("an extra field");
      io::Reader f(x.take(len, "an extra field"), len, prefix);
      if (id != 0x0001) continue;  // ZIP64 sizes, present only for the fields that overflowed
      if (m.usize == 0xFFFFFFFF) m.usize = f.get<uint64_t>("the ZIP64 extra field");
      if (m.csize == 0xFFFFFFFF) m.csize = f.get<uint64_t>("the ZIP64 extra field");
      if (m.offset == 0xFFFFFFFF) m.offset = f.get<uint64_t>("the ZIP64 extra field");
    }
    c.take(comment_len, "a member comment");
    if (flags & 1) io::fail(prefix, "member '" + m.name + "' is encrypted");
    if (m.method != 0 && m.method != 8)
      io::fail(prefix, "member '" + m.name + "' uses compression method " + std::to_string(m.method) +
                           " (only stored and deflate are supported)");
    if (!io::valid_utf8(m.name)) io::fail(prefix, "a member name is not UTF-8");
    if (!m.name.empty() && m.name.back() == '/') continue;  // a directory
    members.push_back(std::move(m));
  }

  std::vector<NamedArray> out;
  std::unordered_set<std::string> names;
  for (const Member& m : members) {
    std::string mp = prefix + ", member '" + m.name + "'";
    io::Reader lh(bytes, size, mp);
    lh.seek(m.offset, "the local header");
    if (lh.get<uint32_t>("the local header") != kLocalSig) io::fail(mp, "corrupted: bad local header");
    lh.take(22, "the local header");
    uint16_t n = lh.get<uint16_t>("the local header"), x = lh.get<uint16_t>("the local header");
    lh.take(uint64_t(n) + x, "the local header");
    const unsigned char* cdata = lh.take(m.csize, "the member's data");
    std::vector<unsigned char> inflated;
    const unsigned char* udata = cdata;
    if (m.method == 0) {
      if (m.usize != m.csize) io::fail(mp, "corrupted: a stored member's sizes differ");
    } else {
      // Deflate expands at most ~1032:1, so a forged size cannot ask for more memory than that.
      if (m.usize > m.csize * 1032 + 1024) io::fail(mp, "corrupted: the uncompressed size is impossible for its data");
      inflated.resize(std::max<uint64_t>(m.usize, 1));  // zlib refuses a null output pointer
      z_stream zs{};
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) io::fail(mp, "zlib could not start");
      zs.next_in = const_cast<Bytef*>(cdata);
      zs.next_out = inflated.data();
      uint64_t in_left = m.csize, out_left = m.usize;  // not yet handed to zlib
      int rc;
      do {  // zlib counts in 32 bits: hand it at most 1 GiB at a time
        if (zs.avail_in == 0) {
          zs.avail_in = uInt(std::min<uint64_t>(in_left, 1u << 30));
          in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0) {
          zs.avail_out = uInt(std::min<uint64_t>(out_left, 1u << 30));
          out_left -= zs.avail_out;
        }
        rc = inflate(&zs, Z_NO_FLUSH);
      } while (rc == Z_OK);
      bool complete = rc == Z_STREAM_END && out_left == 0 && zs.avail_out == 0;
      inflateEnd(&zs);
      if (!complete) io::fail(mp, "corrupted: the deflated data does not inflate to its size");
      udata = inflated.data();
    }
    if (io::crc32_of(udata, m.usize) != m.crc) io::fail(mp, "corrupted: the CRC32 does not match");
    std::string name = m.name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    if (!names.insert(name).second) io::fail(prefix, "corrupted: member '" + name + "' appears twice");
    out.push_back({name, parse_npy(udata, m.usize, mp)});
  }
  return out;
}

}  // namespace theon::nn
