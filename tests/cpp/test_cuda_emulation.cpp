// The generated CUDA kernels run on the host: the same CUDA C text, compiled
// by the system C++ compiler as host code (the CUDA emulator's harness and
// host compiler, src/backend/cuda/emulator/), is run over arrays and compared with the
// CPU's Composite on every op of the table in every dtype, the mixed-dtype
// program, broadcast and transposed (strided) operands. This checks the code
// generator's semantics (conversions, integer rules, NaN handling, indexing,
// argument packing) without a GPU; what it cannot check is CUDA's own math
// library and the PTX float16 conversion. Skips when no C++ compiler is on PATH.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "../../src/backend/cuda/emulator/host_compiler.h"
#include "cuda_test_programs.h"

namespace theon::testing {
namespace {

// The programs' kernels compiled into one shared library by the emulator's host compiler.
struct HostKernels {
  void* lib = nullptr;
  std::string error;

  explicit HostKernels(const std::vector<std::shared_ptr<Composite>>& programs) {
    if (cuda::detail::host_compiler().empty()) {
      error = "no C++ compiler on PATH";
      return;
    }
    std::string src = cuda::detail::emulator_harness();
    for (size_t k = 0; k < programs.size(); ++k) {
      const std::string name = "k" + std::to_string(k);
      src += "namespace p" + std::to_string(k) + " {\n" +
             cuda::fused_kernel_source(*programs[k], name).source;
      src += "extern \"C\" void run_" + name +
             "(const long long* w, int strided) {\n"
             "  Args a; memcpy(a.w, w, sizeof a.w);\n"
             "  if (strided) " +
             name + "_strided(a); else " + name + "_contig(a);\n}\n}\n";
    }
    try {
      lib = cuda::detail::load_host_library(src, "the table's fused kernels");
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
  }

  // Runs program k over `shape`: inputs and outputs may be any views of that shape (broadcast
  // allowed for inputs).
  void run(size_t k, const Shape& shape, const std::vector<Array>& ins,
           const std::vector<Array>& outs, bool strided, int* err) const {
    auto fn = reinterpret_cast<void (*)(const long long*, int)>(
        dlsym(lib, ("run_k" + std::to_string(k)).c_str()));
    ASSERT_NE(fn, nullptr);
    std::vector<void*> ptrs;
    std::vector<std::vector<int64_t>> strides;
    for (const Array& a : ins) {
      Array b = a.broadcast_to(shape);
      ptrs.push_back(b.data());
      strides.emplace_back(b.strides().begin(), b.strides().end());
    }
    for (const Array& a : outs) {
      ptrs.push_back(a.data());
      strides.emplace_back(a.strides().begin(), a.strides().end());
    }
    cuda::FusedArgs args = cuda::pack_fused_args(shape, ptrs, strides, err);
    fn(reinterpret_cast<const long long*>(args.words.data()), strided ? 1 : 0);
  }
};

// Values of dtype d exercising edge cases: zeros, signs, the dtype's
// extremes, NaN and infinities, then random values.
Array test_values(DType d, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t n = shape_size(shape);
  if (is_float(d)) {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> special = {0.0,          -0.0, 1,     -1,  0.5,  -0.5, 2,   -2.5,
                                   3.75,         1e-3, -0.75, 100, -100, 1e30, inf, -inf,
                                   std::nan(""), 0.2,  7,     -7};
    std::uniform_real_distribution<double> u(-4, 4);
    std::vector<double> v(static_cast<size_t>(n));
    std::vector<size_t> order(special.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t i = 0; i < n; ++i)
      v[size_t(i)] = i < int64_t(special.size()) ? special[order[size_t(i)]] : u(rng);
    return Array::from_vector(v, shape).astype(d);
  }
  if (d == DType::Bool) {
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = double(rng() & 1);
    return Array::from_vector(v, shape).astype(d);
  }
  const int bits = int(itemsize(d)) * 8;
  const bool is_signed = is_signed_int(d);
  std::vector<int64_t> special = {0, 1, 2, 3, 7, 63, 64, 100, -1, -2, -7};
  if (is_signed) {
    special.push_back(bits == 64 ? std::numeric_limits<int64_t>::min()
                                 : -(int64_t(1) << (bits - 1)));
    special.push_back(bits == 64 ? std::numeric_limits<int64_t>::max()
                                 : (int64_t(1) << (bits - 1)) - 1);
  } else {
    special.push_back(
        bits == 64 ? -1 : (int64_t(1) << bits) - 1);  // the maximum (int64 -1 wraps to 2^64 - 1)
  }
  std::uniform_int_distribution<int64_t> u(-40, 40);
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::shuffle(special.begin(), special.end(), rng);
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = i < int64_t(special.size()) ? special[size_t(i)] : u(rng);
  return Array::from_vector(v, shape).astype(d);
}

bool transcendental(ScalarOpId id, DType kernel) {
  switch (id) {
    case ScalarOpId::add:
    case ScalarOpId::sub:
    case ScalarOpId::mul:
    case ScalarOpId::true_div:
    case ScalarOpId::int_div:
    case ScalarOpId::mod:
    case ScalarOpId::sqrt:
    case ScalarOpId::reciprocal:
    case ScalarOpId::hard_sigmoid:
    case ScalarOpId::softsign:
    case ScalarOpId::erfinv:
    case ScalarOpId::erfcinv:
      return false;
    case ScalarOpId::pow:
      return is_float(kernel);
    default: {
      const TypeRule r = scalar_op_info(id).rule;
      return r == TypeRule::FLOAT || r == TypeRule::DIV;
    }
  }
}

// Compares output `o` of program c: bit-exact unless it comes from a
// transcendental function (host libm vs SLEEF: a few ulps, 1 ulp of float16).
void expect_match(const Composite& c, size_t o, const Array& want, const Array& got,
                  const std::string& what) {
  const int v = c.program().outputs[o];
  bool approx = false;
  if (v >= c.num_inputs()) {
    const ScalarInstr& ins = c.program().instrs[size_t(v - c.num_inputs())];
    if (!ins.is_cast) {
      std::vector<DType> ds;
      for (int a : ins.args) ds.push_back(c.value_dtype(a));
      approx = transcendental(ins.op, elemwise_kernel_dtype(ins.op, ds));
    }
  }
  ASSERT_EQ(want.dtype(), got.dtype()) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  const Array w = want.copy(), g = got.copy();
  const DType d = want.dtype();
  const double rtol = d == DType::Float64   ? 1e-12
                      : d == DType::Float32 ? 4e-6
                      : d == DType::Float16 ? 2e-3
                                            : 1e-2;
  const std::string op = v >= c.num_inputs() ? c.program_str() : "input";
  for (int64_t i = 0; i < w.size(); ++i) {
    const char* a = static_cast<const char*>(w.data()) + size_t(i) * w.itemsize();
    const char* b = static_cast<const char*>(g.data()) + size_t(i) * w.itemsize();
    if (std::memcmp(a, b, w.itemsize()) == 0) continue;
    const double x = w.item_double(i), y = g.item_double(i);
    if (is_float(d) && std::isnan(x) && std::isnan(y)) continue;  // NaN payloads may differ
    if (is_float(d) && x == 0 && y == 0 && !approx) {
      ADD_FAILURE() << what << " output " << o << " element " << i << ": signed zero differs";
      return;
    }
    if (approx && std::isfinite(x) && std::abs(x - y) <= rtol * std::max(1.0, std::abs(x)))
      continue;
    ADD_FAILURE() << what << " output " << o << " element " << i << ": CPU " << x << ", kernel "
                  << y << (approx ? " (beyond tolerance)" : " (expected bit-identical)");
    return;
  }
}

// Runs every program contiguous and strided (a transposed input, a row and a
// column broadcast, a strided output) against Composite::perform.
void check_programs(const std::vector<std::shared_ptr<Composite>>& programs,
                    const std::string& what) {
  HostKernels host(programs);
  if (!host.error.empty()) {
    if (host.error == "no C++ compiler on PATH") GTEST_SKIP() << host.error;
    FAIL() << host.error;
  }
  const Shape shape = {4, 9};
  for (size_t k = 0; k < programs.size(); ++k) {
    const Composite& c = *programs[k];
    const std::string name =
        what + " program " + std::to_string(k) + " [" + c.program_str().substr(0, 200) + "]";
    std::vector<Array> ins;
    for (int i = 0; i < c.num_inputs(); ++i)
      ins.push_back(test_values(c.program().inputs[size_t(i)], shape, 17 + i));
    std::vector<Array> want;
    c.perform(ins, want);
    std::vector<Array> got;
    for (const Array& w : want) got.push_back(Array::empty(w.dtype(), w.shape()));
    int err = 0;
    host.run(k, shape, ins, got, false, &err);
    EXPECT_EQ(err, 0) << name;
    for (size_t o = 0; o < want.size(); ++o)
      expect_match(c, o, want[o], got[o], name + " (contiguous)");

    // Strided: input 0 transposed in memory, input 1 a broadcast row, input 2 a broadcast column,
    // others sliced.
    std::vector<Array> sins;
    for (int i = 0; i < c.num_inputs(); ++i) {
      const DType d = c.program().inputs[size_t(i)];
      if (i == 0)
        sins.push_back(test_values(d, {9, 4}, 5).transpose());
      else if (i == 1)
        sins.push_back(test_values(d, {9}, 6 + i));
      else if (i == 2)
        sins.push_back(test_values(d, {4, 1}, 6 + i));
      else
        sins.push_back(test_values(d, {4, 18}, 6 + i).slice(1, 0, 18, 2));
    }
    std::vector<Array> swant;
    c.perform(sins, swant);
    std::vector<Array> sgot;
    for (const Array& w : swant) sgot.push_back(Array::empty(w.dtype(), {9, 4}).transpose());
    host.run(k, shape, sins, sgot, true, &err);
    EXPECT_EQ(err, 0) << name;
    for (size_t o = 0; o < swant.size(); ++o)
      expect_match(c, o, swant[o], sgot[o], name + " (strided)");
  }
}

TEST(CudaKernelOnHost, EveryTableOpInEveryDtypeMatchesTheCpu) {
  std::vector<std::shared_ptr<Composite>> programs;
  for (DType d : all_dtypes())
    for (auto& c : table_programs(d, 40, /*skip_pow=*/true)) programs.push_back(c);
  check_programs(programs, "table");
}

TEST(CudaKernelOnHost, MixedDtypeProgramMatchesTheCpu) {
  check_programs({mixed_program()}, "mixed");
}

TEST(CudaKernelOnHost, IntegerPowerMatchesAndANegativeExponentSetsTheErrorFlag) {
  std::vector<std::shared_ptr<Composite>> programs;
  for (DType d : {DType::Int8, DType::Int32, DType::Int64, DType::UInt16, DType::UInt64}) {
    ScalarProgram p;
    p.inputs = {d, DType::UInt8};  // an unsigned exponent: never negative, promoted with d
    p.instrs = {ScalarInstr{false, ScalarOpId::pow, DType::Float64, {0, 1}}};
    p.outputs = {2};
    programs.push_back(std::make_shared<Composite>(p));
  }
  check_programs(programs, "pow");
  ScalarProgram p;
  p.inputs = {DType::Int32, DType::Int32};
  p.instrs = {ScalarInstr{false, ScalarOpId::pow, DType::Float64, {0, 1}}};
  p.outputs = {2};
  auto c = std::make_shared<Composite>(p);
  HostKernels host({c});
  if (!host.error.empty()) GTEST_SKIP() << host.error;
  Array a = Array::from_vector<int32_t>({2, 3, 4}), b = Array::from_vector<int32_t>({3, -1, 2});
  Array out = Array::empty(DType::Int32, {3});
  int err = 0;
  host.run(0, {3}, {a, b}, {out}, false, &err);
  EXPECT_EQ(err, int(cuda::KernelError::negative_int_power));
  EXPECT_EQ(cuda::kernel_error_message(err),
            "Integers to negative integer powers are not allowed.");
  EXPECT_EQ(out.data_as<int32_t>()[0], 8);
  EXPECT_EQ(out.data_as<int32_t>()[2], 16);
  std::vector<Array> cpu;
  EXPECT_THROW(c->perform({a, b}, cpu), std::invalid_argument);  // the CPU raises the same error
}

}  // namespace
}  // namespace theon::testing
