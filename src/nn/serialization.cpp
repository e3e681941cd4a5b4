// The theon model file: metadata plus named arrays, checked on load as if
// hostile (layout in include/theon/nn/serialization.h).
#include "theon/nn/serialization.h"

#include <unordered_set>

#include "serialization_io.h"

namespace theon::nn {

namespace {

constexpr char kMagic[8] = {'T', 'H', 'E', 'O', 'N', 'M', 'D', 'L'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFixedHeader = 64;
constexpr uint64_t kAlign = 64;

// Stable codes written to files: never renumber (the DType enum may change).
constexpr DType kCodes[] = {DType::Bool,   DType::Int8,    DType::Int16,    DType::Int32,   DType::Int64,
                            DType::UInt8,  DType::UInt16,  DType::UInt32,   DType::UInt64,  DType::Float16,
                            DType::BFloat16, DType::Float32, DType::Float64};

uint32_t dtype_code(DType d) {
  for (uint32_t i = 0; i < std::size(kCodes); ++i)
    if (kCodes[i] == d) return i + 1;
  throw std::logic_error("theon model file: dtype without a code");
}

uint64_t align_up(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string prefix_of(const std::string& path) { return "theon model file '" + path + "'"; }

}  // namespace

void save_model_file(const std::string& path, const std::string& metadata, const std::vector<NamedArray>& arrays) {
  const std::string prefix = prefix_of(path);
  if (arrays.size() > kMaxFileEntries)
    throw std::invalid_argument(prefix + ": " + std::to_string(arrays.size()) + " arrays, at most " +
                                std::to_string(kMaxFileEntries) + " fit");
  std::unordered_set<std::string> names;
  std::vector<Array> data;
  std::vector<uint64_t> offsets;
  uint64_t data_length = 0;
  for (const auto& [name, value] : arrays) {
    if (name.empty() || name.size() > kMaxFileNameLength)
      throw std::invalid_argument(prefix + ": array names must have 1 to 65535 bytes, got " +
                                  std::to_string(name.size()));
    if (!io::valid_utf8(name)) throw std::invalid_argument(prefix + ": array names must be UTF-8 text");
    if (!names.insert(name).second) throw std::invalid_argument(prefix + ": array name '" + name + "' is used twice");
    if (!value.defined()) throw std::invalid_argument(prefix + ": array '" + name + "' is undefined");
    if (value.ndim() > kMaxFileRank)
      throw std::invalid_argument(prefix + ": array '" + name + "' has rank " + std::to_string(value.ndim()) +
                                  ", at most 64 fit");
    data.push_back(value.contiguous());
    data_length = align_up(data_length);
    offsets.push_back(data_length);
    data_length += data.back().nbytes();
  }
  // The header: the fixed part (CRCs filled in once everything is known), metadata, table.
  std::string header(kFixedHeader, '\0');
  auto put = [&](auto v) { header.append(reinterpret_cast<const char*>(&v), sizeof v); };
  header += metadata;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const Array& a = data[i];
    put(uint32_t(arrays[i].name.size()));
    header += arrays[i].name;
    put(dtype_code(a.dtype()));
    put(uint32_t(a.ndim()));
    for (int64_t d : a.shape()) put(uint64_t(d));
    put(offsets[i]);
    put(uint64_t(a.nbytes()));
  }
  uint64_t header_length = header.size(), data_offset = align_up(header_length);
  auto set = [&](size_t at, auto v) { std::memcpy(header.data() + at, &v, sizeof v); };
  std::memcpy(header.data(), kMagic, 8);
  set(8, kVersion);
  set(12, uint32_t(0));
  set(16, header_length);
  set(24, uint64_t(metadata.size()));
  set(32, uint64_t(arrays.size()));
  set(40, data_offset);
  set(48, data_length);
  uint32_t dcrc = 0;
  {
    uint64_t pos = 0;
    static const char zeros[kAlign] = {};
    for (size_t i = 0; i < data.size(); ++i) {
      dcrc = io::crc32_of(zeros, offsets[i] - pos, dcrc);
      dcrc = io::crc32_of(data[i].data(), data[i].nbytes(), dcrc);
      pos = offsets[i] + data[i].nbytes();
    }
  }
  set(56, dcrc);
  uint32_t hcrc = io::crc32_of(header.data(), 60);
  hcrc = io::crc32_of(header.data() + kFixedHeader, header.size() - kFixedHeader, hcrc);
  set(60, hcrc);
  io::write_atomically(path, prefix, [&](io::Writer& w) {
    w.bytes(header.data(), header.size());
    w.zeros(data_offset - header_length);
    uint64_t pos = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      w.zeros(offsets[i] - pos);
      w.bytes(data[i].data(), data[i].nbytes());
      pos = offsets[i] + data[i].nbytes();
    }
  });
}

ModelFile load_model_file(const std::string& path) {
  const std::string prefix = prefix_of(path);
  io::FileBytes file = io::read_whole_file(path, prefix);
  const unsigned char* bytes = file.data();
  io::Reader r(bytes, file.size, prefix);
  if (file.size < 8 || std::memcmp(bytes, kMagic, 8) != 0)
    io::fail(prefix, file.size < 8 ? "truncated: shorter than the magic number"
                                   : "not a theon model file (the magic number 'THEONMDL' is missing)");
  r.seek(8, "the header");
  if (file.size < kFixedHeader) io::fail(prefix, "truncated: the fixed 64-byte header is incomplete");
  uint32_t version = r.get<uint32_t>("version"), flags = r.get<uint32_t>("flags");
  if (version != kVersion)
    io::fail(prefix, "format version " + std::to_string(version) + " is not supported (this theon reads version 1)");
  if (flags != 0) io::fail(prefix, "unknown flags " + std::to_string(flags) + " (corrupted?)");
  uint64_t header_length = r.get<uint64_t>("header length"), metadata_length = r.get<uint64_t>("metadata length");
  uint64_t entry_count = r.get<uint64_t>("entry count"), data_offset = r.get<uint64_t>("data offset");
  uint64_t data_length = r.get<uint64_t>("data length");
  uint32_t data_crc = r.get<uint32_t>("data CRC"), header_crc = r.get<uint32_t>("header CRC");
  // Lengths against the file size, before anything else is read or allocated.
  if (header_length < kFixedHeader || header_length > file.size)
    io::fail(prefix, "truncated or corrupted: header length " + std::to_string(header_length) +
                         " does not fit the file's " + std::to_string(file.size) + " bytes");
  if (data_offset < header_length || data_offset % kAlign != 0 || data_offset > file.size)
    io::fail(prefix, "truncated or corrupted: data offset " + std::to_string(data_offset) + " is invalid");
  if (data_length != file.size - data_offset)
    io::fail(prefix, "truncated or corrupted: the data section should hold " + std::to_string(data_length) +
                         " bytes, the file has " + std::to_string(file.size - data_offset) + " after the header");
  if (metadata_length > header_length - kFixedHeader)
    io::fail(prefix, "corrupted: metadata length " + std::to_string(metadata_length) + " exceeds the header");
  if (entry_count > kMaxFileEntries)
    io::fail(prefix, "corrupted: " + std::to_string(entry_count) + " entries claimed (at most " +
                         std::to_string(kMaxFileEntries) + ")");
  // Each entry takes at least 29 bytes of table: a forged count cannot make the
  // reader reserve more entries than the header could describe.
  if (entry_count > (header_length - kFixedHeader - metadata_length) / 29)
    io::fail(prefix, "corrupted: " + std::to_string(entry_count) + " entries cannot fit a table of " +
                         std::to_string(header_length - kFixedHeader - metadata_length) + " bytes");
  uint32_t hcrc = io::crc32_of(bytes, 60);
  hcrc = io::crc32_of(bytes + kFixedHeader, header_length - kFixedHeader, hcrc);
  // The padding is the one part no checksum covers: it must be zeros, so that
  // every byte of the file is checked.
  for (uint64_t k = header_length; k < data_offset; ++k)
    if (bytes[k] != 0) io::fail(prefix, "corrupted: non-zero padding before the data section");
  if (hcrc != header_crc) io::fail(prefix, "corrupted: the header checksum does not match");
  if (io::crc32_of(bytes + data_offset, data_length) != data_crc)
    io::fail(prefix, "corrupted: the data checksum does not match");

  ModelFile out;
  io::Reader h(bytes, header_length, prefix);  // the table may not run past the header
  h.seek(kFixedHeader, "metadata");
  const unsigned char* meta = h.take(metadata_length, "the metadata");
  out.metadata.assign(reinterpret_cast<const char*>(meta), metadata_length);
  std::unordered_set<std::string> names;
  uint64_t data_end = 0;  // where the previous entry's data ended
  out.arrays.reserve(entry_count);
  for (uint64_t i = 0; i < entry_count; ++i) {
    std::string what = "entry " + std::to_string(i);
    uint32_t name_length = h.get<uint32_t>("an entry's name length");
    if (name_length == 0 || name_length > kMaxFileNameLength)
      io::fail(prefix, "corrupted: " + what + " has a name of " + std::to_string(name_length) + " bytes");
    const unsigned char* name = h.take(name_length, "an entry's name");
    std::string nm(reinterpret_cast<const char*>(name), name_length);
    if (!io::valid_utf8(nm)) io::fail(prefix, "corrupted: " + what + " has a name that is not UTF-8");
    what = "array '" + nm + "'";
    if (!names.insert(nm).second) io::fail(prefix, "corrupted: " + what + " appears twice");
    uint32_t code = h.get<uint32_t>("an entry's dtype"), rank = h.get<uint32_t>("an entry's rank");
    if (code == 0 || code > std::size(kCodes))
      io::fail(prefix, "corrupted: " + what + " has unknown dtype code " + std::to_string(code));
    if (rank > uint32_t(kMaxFileRank))
      io::fail(prefix, "corrupted: " + what + " has rank " + std::to_string(rank) + " (at most 64)");
    DType dtype = kCodes[code - 1];
    Shape shape(rank);
    for (uint32_t k = 0; k < rank; ++k) {
      uint64_t d = h.get<uint64_t>("an entry's shape");
      if (d > uint64_t(INT64_MAX)) io::fail(prefix, "corrupted: " + what + " has a dimension of " + std::to_string(d));
      shape[k] = int64_t(d);
    }
    uint64_t offset = h.get<uint64_t>("an entry's offset"), nbytes = h.get<uint64_t>("an entry's size");
    uint64_t expect = io::checked_nbytes(shape, itemsize(dtype), data_length, prefix, what);
    if (nbytes != expect)
      io::fail(prefix, "corrupted: " + what + " of shape " + shape_str(shape) + " and dtype " +
                           std::string(dtype_name(dtype)) + " claims " + std::to_string(nbytes) + " bytes");
    uint64_t end;
    if (offset % kAlign != 0 || offset < data_end || !io::add_ok(offset, nbytes, &end) || end > data_length)
      io::fail(prefix, "corrupted: " + what + " lies outside the data section or overlaps another array");
    data_end = end;
    const unsigned char* p = bytes + data_offset + offset;
    if (dtype == DType::Bool) io::check_bool_bytes(p, nbytes, prefix, what);
    // A view into the file's buffer: no copy, and 64-byte aligned.
    Array a(dtype, shape, c_strides(shape, itemsize(dtype)), int64_t(data_offset + offset), file.buf);
    out.arrays.push_back({std::move(nm), std::move(a)});
  }
  if (h.pos() != header_length) io::fail(prefix, "corrupted: the header has trailing bytes after the table");
  return out;
}

}  // namespace theon::nn
