// theon::nn weight files: bit-exact round trips of every dtype and shape, and
// hostile input (every truncation, random byte flips, forged sizes) giving a
// clean std::runtime_error, for the theon model file and .npz.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <theon/nn/serialization.h>
#include <theon/theon.h>

using namespace theon;
using nn::NamedArray;

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("theon_nn_io_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(s.data(), std::streamsize(s.size()));
}

// Bytes of an array in C order (the oracle for "bit-exact").
std::string raw(const Array& a) {
  Array c = a.contiguous();
  return std::string(static_cast<const char*>(c.data()), c.nbytes());
}

// An array of `dtype` and `shape` with arbitrary bit patterns (NaN payloads,
// negative zeros, subnormals included for floats); bool stays 0/1.
Array random_array(DType dtype, const Shape& shape, std::mt19937& rng) {
  Array a = Array::empty(dtype, shape);
  auto* p = static_cast<unsigned char*>(a.data());
  for (size_t i = 0; i < a.nbytes(); ++i) p[i] = static_cast<unsigned char>(rng());
  if (dtype == DType::Bool)
    for (size_t i = 0; i < a.nbytes(); ++i) p[i] &= 1;
  return a;
}

const DType kAll[] = {DType::Bool,   DType::Int8,    DType::Int16,    DType::Int32,   DType::Int64,
                      DType::UInt8,  DType::UInt16,  DType::UInt32,   DType::UInt64,  DType::Float16,
                      DType::BFloat16, DType::Float32, DType::Float64};

std::vector<NamedArray> sample_arrays(bool with_bfloat16) {
  std::mt19937 rng(7);
  std::vector<NamedArray> out;
  const Shape shapes[] = {{}, {0}, {5}, {2, 3}, {3, 0, 2}, {2, 1, 3, 2}};
  int k = 0;
  for (DType d : kAll) {
    if (d == DType::BFloat16 && !with_bfloat16) continue;
    for (const Shape& s : shapes)
      out.push_back({std::string(dtype_name(d)) + "/" + std::to_string(k++), random_array(d, s, rng)});
  }
  // A non-contiguous view is written in C order.
  Array t = random_array(DType::Float32, {3, 4}, rng).transpose();
  out.push_back({"transposed", t});
  return out;
}

void expect_same(const std::vector<NamedArray>& got, const std::vector<NamedArray>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name);
    EXPECT_EQ(got[i].value.dtype(), want[i].value.dtype()) << want[i].name;
    EXPECT_EQ(got[i].value.shape(), want[i].value.shape()) << want[i].name;
    EXPECT_EQ(raw(got[i].value), raw(want[i].value)) << want[i].name;
  }
}

// Expects load to fail with a runtime_error whose message names the file.
template <class F>
void expect_clean_failure(F&& load, const std::string& path, const std::string& context) {
  try {
    load();
    ADD_FAILURE() << context << ": a damaged file loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << context << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": wrong exception type: " << e.what();
  }
}

// CRC-32 (IEEE, reflected, as zlib), bit by bit: an independent oracle used to forge valid headers.
uint32_t crc32_ref(const std::string& s, size_t from, size_t to, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = from; i < to; ++i) {
    crc ^= static_cast<unsigned char>(s[i]);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

template <class T>
void put(std::string& s, size_t at, T v) {
  std::memcpy(s.data() + at, &v, sizeof v);
}
template <class T>
T get(const std::string& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof v);
  return v;
}

void fix_header_crc(std::string& s) {
  uint64_t hl = get<uint64_t>(s, 16);
  put(s, 60, crc32_ref(s, 64, hl, crc32_ref(s, 0, 60)));
}

}  // namespace

TEST(NnSerialization, ModelFileRoundTripAllDtypes) {
  auto dir = temp_dir();
  auto path = (dir / "m.theon").string();
  auto arrays = sample_arrays(true);
  std::string meta = "{\"layers\": [\"Dense\"], \"note\": \"ünïcødé\"}";
  nn::save_model_file(path, meta, arrays);
  auto m = nn::load_model_file(path);
  EXPECT_EQ(m.metadata, meta);
  expect_same(m.arrays, arrays);
  for (const auto& a : m.arrays)
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.value.data()) % 64, 0u) << a.name;
  // Empty file contents and overwriting an existing file.
  nn::save_model_file(path, "", {});
  auto e = nn::load_model_file(path);
  EXPECT_EQ(e.metadata, "");
  EXPECT_TRUE(e.arrays.empty());
  for (auto& f : fs::directory_iterator(dir)) EXPECT_EQ(f.path().filename(), "m.theon");  // no temp file left
  fs::remove_all(dir);
}

TEST(NnSerialization, ModelFileEveryTruncationAndByteFlipFailsCleanly) {
  auto dir = temp_dir();
  auto path = (dir / "m.theon").string(), bad = (dir / "bad.theon").string();
  std::mt19937 rng(3);
  std::vector<NamedArray> arrays = {{"w", random_array(DType::Float32, {3, 2}, rng)},
                                    {"b", random_array(DType::Bool, {5}, rng)},
                                    {"s", random_array(DType::Int64, {}, rng)}};
  nn::save_model_file(path, "{\"x\": 1}", arrays);
  std::string good = read_bytes(path);
  for (size_t n = 0; n < good.size(); ++n) {
    write_bytes(bad, good.substr(0, n));
    expect_clean_failure([&] { nn::load_model_file(bad); }, bad, "truncated at " + std::to_string(n));
  }
  write_bytes(bad, good + "x");
  expect_clean_failure([&] { nn::load_model_file(bad); }, bad, "trailing byte");
  // Every byte of the file is covered by a checksum or a check: any change fails.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string s = good;
    s[i] = char(s[i] ^ (1 + rng() % 255));
    write_bytes(bad, s);
    expect_clean_failure([&] { nn::load_model_file(bad); }, bad, "byte " + std::to_string(i) + " changed");
  }
  fs::remove_all(dir);
}

TEST(NnSerialization, ForgedHugeTensorIsRejectedBeforeAllocating) {
  auto dir = temp_dir();
  auto path = (dir / "m.theon").string();
  nn::save_model_file(path, "", {{"w", Array::zeros(DType::Float64, {4})}});
  std::string s = read_bytes(path);
  // Table of the one entry at 64: u32 name length (1), "w", u32 dtype, u32 rank (1), u64 dim, u64 offset, u64 nbytes.
  size_t dim_at = 64 + 4 + 1 + 4 + 4;
  ASSERT_EQ(get<uint64_t>(s, dim_at), 4u);
  // 2^57 float64 = 2^60 bytes, with a matching nbytes and a valid header checksum.
  put(s, dim_at, uint64_t(1) << 57);
  put(s, dim_at + 16, uint64_t(1) << 60);
  fix_header_crc(s);
  write_bytes(path, s);
  try {
    nn::load_model_file(path);
    FAIL() << "forged file loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("more bytes than the file holds"), std::string::npos) << e.what();
  }
  // A product of dims that overflows 64 bits.
  nn::save_model_file(path, "", {{"w", Array::zeros(DType::Float64, {4, 4})}});
  std::string t = read_bytes(path);
  put(t, dim_at, uint64_t(1) << 40);
  put(t, dim_at + 8, uint64_t(1) << 40);
  fix_header_crc(t);
  write_bytes(path, t);
  EXPECT_THROW(nn::load_model_file(path), std::runtime_error);
  // Absurd entry counts: past the limit, and more than the table could describe.
  for (uint64_t count : {uint64_t(1) << 62, uint64_t(1000)}) {
    put(t, 32, count);
    fix_header_crc(t);
    write_bytes(path, t);
    EXPECT_THROW(nn::load_model_file(path), std::runtime_error) << count;
  }
  // A name that is not UTF-8 (it would become a Python str).
  nn::save_model_file(path, "", {{"w", Array::zeros(DType::Float64, {4})}});
  t = read_bytes(path);
  t[68] = char(0xFF);
  fix_header_crc(t);
  write_bytes(path, t);
  EXPECT_THROW(nn::load_model_file(path), std::runtime_error);
  EXPECT_THROW(nn::save_model_file(path, "", {{"\xC3(", Array::zeros(DType::Float64, {4})}}), std::invalid_argument);
  fs::remove_all(dir);
}

TEST(NnSerialization, ModelFileErrors) {
  auto dir = temp_dir();
  EXPECT_THROW(nn::load_model_file((dir / "missing").string()), std::runtime_error);
  EXPECT_THROW(nn::load_model_file(dir.string()), std::runtime_error);
  write_bytes(dir / "npz", "PK\x03\x04 not ours");
  try {
    nn::load_model_file((dir / "npz").string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos) << e.what();
  }
  Array a = Array::zeros(DType::Float32, {2});
  EXPECT_THROW(nn::save_model_file((dir / "x").string(), "", {{"a", a}, {"a", a}}), std::invalid_argument);
  EXPECT_THROW(nn::save_model_file((dir / "x").string(), "", {{"", a}}), std::invalid_argument);
  EXPECT_THROW(nn::save_model_file((dir / "no" / "such" / "dir").string(), "", {{"a", a}}), std::runtime_error);
  EXPECT_FALSE(fs::exists(dir / "x"));
  fs::remove_all(dir);
}

TEST(NnSerialization, NpzRoundTripAndHostileInput) {
  auto dir = temp_dir();
  auto path = (dir / "w.npz").string(), bad = (dir / "bad.npz").string();
  auto arrays = sample_arrays(false);
  nn::save_npz(path, arrays);
  expect_same(nn::load_npz(path), arrays);
  EXPECT_THROW(nn::save_npz(path, {{"b", Array::zeros(DType::BFloat16, {2})}}), std::invalid_argument);

  std::mt19937 rng(5);
  std::vector<NamedArray> small = {{"w", random_array(DType::Float32, {3, 2}, rng)},
                                   {"flag", random_array(DType::Bool, {4}, rng)}};
  nn::save_npz(path, small);
  std::string good = read_bytes(path);
  for (size_t n = 0; n < good.size(); ++n) {
    write_bytes(bad, good.substr(0, n));
    expect_clean_failure([&] { nn::load_npz(bad); }, bad, "truncated at " + std::to_string(n));
  }
  // Random flips: either a clean error, or (a flip in a field the reader does not use,
  // such as a timestamp or a name) the original arrays exactly — never garbage or a crash.
  for (int trial = 0; trial < 400; ++trial) {
    std::string s = good;
    int flips = 1 + int(rng() % 3);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] ^= char(1 + rng() % 255);
    write_bytes(bad, s);
    try {
      auto got = nn::load_npz(bad);
      // Member names are not checksummed by zip: compare the arrays.
      for (size_t i = 0; i < got.size(); ++i) got[i].name = small.at(i).name;
      expect_same(got, small);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}
