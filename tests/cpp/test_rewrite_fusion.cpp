// Elementwise fusion: which subgraphs become one Composite, and that a
// Composite computes bit for bit what the unfused nodes compute.
#include <chrono>
#include <cstring>

#include "rewrite_test_util.h"
#include "theon/ops/composite.h"
#include "theon/printing/printing.h"
#include "theon/runtime/thread_pool.h"

namespace theon::testing {
namespace {

// Fusion alone on top of FAST_COMPILE (merge, constant folding), so any
// difference from mode None comes from the Composite.
const Mode kFuseOnly = Mode("FAST_COMPILE").including({"elemwise_fusion"});

void expect_bit_identical(const Array& want, const Array& got, const std::string& what) {
  ASSERT_EQ(dtype_name(want.dtype()), dtype_name(got.dtype())) << what;
  ASSERT_EQ(want.shape(), got.shape()) << what;
  Array w = want.copy(), g = got.copy();
  const size_t isz = w.itemsize();
  for (int64_t i = 0; i < w.size(); ++i) {
    const char* a = static_cast<const char*>(w.data()) + size_t(i) * isz;
    const char* b = static_cast<const char*>(g.data()) + size_t(i) * isz;
    ASSERT_EQ(std::memcmp(a, b, isz), 0) << what << ": element " << i << " want " << w.item_double(i) << " got "
                                         << g.item_double(i);
  }
}

// Compiles with fusion and with mode None; asserts bit-identical outputs and returns the fused function.
std::shared_ptr<Function> expect_fused_identical(const std::vector<Var>& ins, const std::vector<Var>& outs,
                                                 const std::vector<Array>& values) {
  auto ref = compile(ins, outs, "None");
  auto fused = compile(ins, outs, kFuseOnly);
  EXPECT_TRUE(fused->rewrite_stats().warnings.empty());
  auto want = (*ref)(values);
  auto got = (*fused)(values);
  EXPECT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size() && i < got.size(); ++i)
    expect_bit_identical(want[i], got[i], "output " + std::to_string(i));
  return fused;
}

const Composite* first_composite(const Function& f) {
  for (const ApplyNode* n : f.nodes())
    if (auto* c = dynamic_cast<const Composite*>(n->op.get())) return c;
  return nullptr;
}

TEST(FusionChain, TwentyElementwiseOpsBecomeOneComposite) {
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  Var t = x;
  for (int i = 0; i < 20; ++i) {
    switch (i % 5) {
      case 0: t = exp(t * 0.1); break;
      case 1: t = t + y; break;
      case 2: t = sin(t); break;
      case 3: t = sqr(t) - 0.25; break;
      default: t = tanh(t); break;
    }
  }
  std::vector<Array> vals{random_array(DType::Float64, {1000}, 1), random_array(DType::Float64, {1000}, 2)};
  auto f = expect_fused_identical({x, y}, {t}, vals);
  EXPECT_EQ(fired(*f, "elemwise_fusion"), 1);
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise"), 0);
  EXPECT_EQ(f->nodes().size(), 1u);
  // The default mode fuses too, and computes what the graph as written computes.
  auto g = expect_same_as_unoptimized({x, y}, {t}, vals);
  EXPECT_EQ(count_ops(*g, "Composite"), 1);
  EXPECT_EQ(count_ops(*g, "Elemwise"), 0);
}

TEST(FusionChain, LoneElemwiseStaysAsIs) {
  Var x = matrix(DType::Float32, "x");
  auto f = compile({x}, {exp(x)}, kFuseOnly);
  EXPECT_EQ(fired(*f, "elemwise_fusion"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{exp}"), 1);
  EXPECT_EQ(count_ops(*f, "Composite"), 0);
}

TEST(FusionDtypes, FloatsAreBitIdentical) {
  for (DType d : {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64}) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    Var x = matrix(d, "x"), y = matrix(d, "y");
    // Each op rounds to float16/bfloat16 on its own; the composite must round at the same places.
    Var out = sigmoid(x * y + 0.3) / (abs(y) + 1.0) - softplus(x) * log1p(sqr(y)) + maximum(x, y) * 1.7;
    Var out2 = cast(exp(cast(x, DType::Float64) * 0.5), d) + y;  // through float64 and back
    std::vector<Array> vals{random_array(d, {7, 33}, 3), random_array(d, {7, 33}, 4)};
    auto f = expect_fused_identical({x, y}, {out, out2}, vals);
    EXPECT_EQ(count_ops(*f, "Composite"), 2);
    EXPECT_EQ(count_ops(*f, "Elemwise"), 0);
  }
}

TEST(FusionDtypes, MixedIntegerFloatAndBoolAreBitIdentical) {
  Var a = matrix(DType::Int8, "a"), b = matrix(DType::Int32, "b"), u = matrix(DType::UInt8, "u");
  Var f32 = matrix(DType::Float32, "f");
  // int8 exp computes in float16 (through float32); int / int is float64; shifts, wrapping, comparisons.
  Var o1 = exp(a * 0.25) + cast(b, DType::Float16);
  auto k = [](double v, DType d) { return constant(v, d); };
  Var o2 = mod((a + u) * b, k(7, DType::Int32)) + int_div(b, a + 3) - xor_(left_shift(u, k(2, DType::UInt8)), b);
  Var o3 = true_div(b, u + 1) * f32;
  Var cond = or_(logical_and(gt(f32, k(0, DType::Float32)), neq(a, k(0, DType::Int8))), lt(u, k(100, DType::UInt8)));
  Var o4 = switch_(cond, f32 * 2.0, cast(b, DType::Float32));
  Var o5 = switch_(f32, a, u) + 1;  // a float condition goes through bool
  Var o6 = and_(logical_not(isnan(log(f32))), gt(b, k(0, DType::Int32)));
  std::vector<Array> vals{random_array(DType::Int8, {5, 6}, 5, -100, 100), random_array(DType::Int32, {5, 6}, 6, -1e6, 1e6),
                          random_array(DType::UInt8, {5, 6}, 7, 0, 255), random_array(DType::Float32, {5, 6}, 8)};
  auto f = expect_fused_identical({a, b, u, f32}, {o1, o2, o3, o4, o5, o6}, vals);
  EXPECT_GE(count_ops(*f, "Composite"), 5);
}

TEST(FusionDtypes, SignedUnsignedComparisonIsNotFused) {
  Var a = vector(DType::Int64, "a"), b = vector(DType::UInt64, "b"), c = vector(DType::Int64, "c");
  Var out = and_(logical_not(lt(a, b)), gt(c * 2, constant(0, DType::Int64)));
  Array av = Array::from_vector<int64_t>({INT64_MAX, -1, 5});
  Array bv = Array::from_vector<uint64_t>({uint64_t(INT64_MAX) + 1, 0, 5});
  Array cv = Array::from_vector<int64_t>({1, -2, 3});
  auto f = expect_fused_identical({a, b, c}, {out}, {av, bv, cv});
  EXPECT_EQ(count_ops(*f, "Elemwise{lt}"), 1);  // computed exactly, on its own
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  auto got = (*f)({av, bv, cv})[0];
  EXPECT_EQ(got.to_int_vector(), (std::vector<int64_t>{0, 0, 1}));  // INT64_MAX < 2**63 holds exactly
}

TEST(FusionBroadcast, ScalarRowColumnAndEmpty) {
  Var s = scalar(DType::Float32, "s");
  Var row = tensor(DType::Float32, {1, -1}, "row"), col = tensor(DType::Float32, {-1, 1}, "col");
  Var m = matrix(DType::Float32, "m");
  Var out = (row * exp(m)) + col - tanh(m * s);
  auto f = expect_fused_identical({s, row, col, m}, {out},
                                  {Array::scalar(DType::Float32, 0.7), random_array(DType::Float32, {1, 9}, 9),
                                   random_array(DType::Float32, {4, 1}, 10), random_array(DType::Float32, {4, 9}, 11)});
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  EXPECT_EQ(f->nodes().size(), 1u);
  // Zero-size: the same function on (0, 9) and (4, 0).
  for (Shape shp : {Shape{0, 9}, Shape{4, 0}}) {
    std::vector<Array> vals{Array::scalar(DType::Float32, 0.7), random_array(DType::Float32, {1, shp[1]}, 12),
                            random_array(DType::Float32, {shp[0], 1}, 13), random_array(DType::Float32, shp, 14)};
    auto ref = compile({s, row, col, m}, {out}, "None");
    expect_bit_identical((*ref)(vals)[0], (*f)(vals)[0], "empty " + shape_str(shp));
  }
}

TEST(FusionBroadcast, BroadcastProducerIsNotRecomputedPerElement) {
  // exp(row) would run once per matrix element inside a Composite: it stays outside.
  Var row = tensor(DType::Float64, {1, -1}, "row"), m = matrix(DType::Float64, "m");
  auto f = expect_fused_identical({row, m}, {exp(row) * m + 1.0},
                                  {random_array(DType::Float64, {1, 5}, 15), random_array(DType::Float64, {3, 5}, 16)});
  EXPECT_EQ(count_ops(*f, "Elemwise{exp}"), 1);
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
}

TEST(FusionBroadcast, NonContiguousTransposedAndNegativeStrideOperands) {
  Array base = random_array(DType::Float64, {6, 8}, 17);
  Array transposed = base.transpose();  // (8, 6), F-ordered
  // base[:, ::-1].T: negative strides, (8, 6).
  Array neg = Array(DType::Float64, {6, 8}, {64, -8}, base.offset() + 56, base.buffer()).transpose();
  Var m = matrix(DType::Float64, "m");
  Var ct = constant(transposed), cn = constant(neg);
  Var out = exp(ct * m) - cn / (abs(m) + 1.0);
  Array mv = random_array(DType::Float64, {8, 6}, 18);
  auto f = expect_fused_identical({m}, {out}, {mv});
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  // Arguments that are views: a transposed and a reversed input.
  Var p = matrix(DType::Float64, "p"), q = matrix(DType::Float64, "q");
  Var out2 = sqrt(abs(p * q)) + p;
  expect_fused_identical({p, q}, {out2}, {transposed, neg});
  // A long inner loop with a broadcast column: several blocks per run.
  Var big = matrix(DType::Float32, "big"), c = tensor(DType::Float32, {-1, 1}, "c");
  expect_fused_identical({big, c}, {exp(big * c) + c},
                         {random_array(DType::Float32, {3, 5000}, 19), random_array(DType::Float32, {3, 1}, 20)});
}

TEST(FusionOutputs, InnerValueNeededOutsideIsASecondOutput) {
  Var x = matrix(DType::Float32, "x"), y = matrix(DType::Float32, "y");
  Var t = exp(x) * y;
  Var u = t + 1.0;
  auto f = expect_fused_identical({x, y}, {u, t}, {random_array(DType::Float32, {4, 5}, 21), random_array(DType::Float32, {4, 5}, 22)});
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  EXPECT_EQ(f->nodes().size(), 1u);
  const Composite* c = first_composite(*f);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->program().outputs.size(), 2u);
}

TEST(FusionOutputs, InnerOutputSmallerThanTheRootAtRunTime) {
  // Static types allow either shape; at run time exp(x) is (1, 5) while the root is (3, 5).
  Var x = matrix(DType::Float64, "x"), m = matrix(DType::Float64, "m");
  Var e = exp(x);
  Var out = e * m - 2.0;
  auto f = expect_fused_identical({x, m}, {out, e},
                                  {random_array(DType::Float64, {1, 5}, 23), random_array(DType::Float64, {3, 5}, 24)});
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  auto got = (*f)({random_array(DType::Float64, {1, 5}, 23), random_array(DType::Float64, {3, 5}, 24)});
  EXPECT_EQ(got[1].shape(), (Shape{1, 5}));
}

TEST(FusionOutputs, ValueReadTwiceByOneNodeIsFusedAndComputedOnce) {
  Var x = vector(DType::Float64, "x");
  Var t = exp(x);
  Var out = cos(t * t + x);  // t is read twice by one node: inside the composite it is one value used twice
  auto f = expect_fused_identical({x}, {out}, {random_array(DType::Float64, {50}, 25)});
  EXPECT_EQ(count_ops(*f, "Elemwise{exp}"), 0);
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  const Composite* c = first_composite(*f);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->program_str(), "t0 = exp(i0); cos((t0 * t0) + i0)");
  // An intermediate with two readers is computed once, outside both groups.
  Var s = sin(x);
  auto g = expect_fused_identical({x}, {exp(s + 1.0) * 2.0, log(s * s + 1.0) - 3.0}, {random_array(DType::Float64, {50}, 26)});
  EXPECT_EQ(count_ops(*g, "Elemwise{sin}"), 1);
  EXPECT_EQ(count_ops(*g, "Composite"), 2);
}

TEST(FusionPrinting, DebugprintShowsTheProgramOnOneLine) {
  Var x = matrix(DType::Float64, "x"), y = matrix(DType::Float64, "y"), z = matrix(DType::Float64, "z");
  auto f = compile({x, y, z}, {(x * exp(y)) + z}, kFuseOnly);
  const Composite* c = first_composite(*f);
  ASSERT_NE(c, nullptr);
  // The inputs are numbered in the order the composite reads them.
  const ApplyNode* node = f->nodes()[0];
  auto idx = [&](const Var& v) {
    for (size_t i = 0; i < node->inputs.size(); ++i)
      if (node->inputs[i].is(v)) return "i" + std::to_string(i);
    return std::string("?");
  };
  std::string want = "Composite{(" + idx(x) + " * exp(" + idx(y) + ")) + " + idx(z) + "}";
  EXPECT_EQ(c->name(), want);
  std::string text = debugprint(*f);
  size_t at = text.find(want);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(text.find('\n', at), text.find('\n', text.find('}', at))) << "the program is on one line";
  // Merge relies on equal programs being equal ops.
  Composite a(c->program()), b(c->program());
  EXPECT_TRUE(a.equals(b));
  ScalarProgram other = c->program();
  other.instrs[0].op = ScalarOpId::log;
  EXPECT_FALSE(a.equals(Composite(other)));
}

TEST(FusionPrinting, SharedValuesAndMultipleOutputsAreNamed) {
  ScalarProgram p;
  p.inputs = {DType::Float32, DType::Float32};
  p.instrs.push_back({false, ScalarOpId::add, DType::Float64, {0, 1}});   // v2 = i0 + i1
  p.instrs.push_back({false, ScalarOpId::exp, DType::Float64, {2}});      // v3 = exp(v2)
  p.instrs.push_back({false, ScalarOpId::mul, DType::Float64, {3, 2}});   // v4 = v3 * v2
  p.instrs.push_back({true, ScalarOpId::identity, DType::Float16, {4}});  // v5 = float16(v4)
  p.outputs = {5, 3};
  Composite c(p);
  EXPECT_EQ(c.program_str(), "t0 = i0 + i1; t1 = exp(t0); float16(t1 * t0), t1");
  EXPECT_EQ(c.value_dtype(5), DType::Float16);
}

TEST(FusionErrors, MalformedProgramsAreRefused) {
  ScalarProgram p;
  p.inputs = {DType::Float32};
  p.instrs.push_back({false, ScalarOpId::add, DType::Float64, {0}});  // add takes 2
  p.outputs = {1};
  EXPECT_THROW(Composite{p}, std::invalid_argument);
  p.instrs[0].args = {0, 1};  // reads itself
  EXPECT_THROW(Composite{p}, std::invalid_argument);
  p.instrs[0] = {false, ScalarOpId::and_, DType::Float64, {0, 0}};  // bitwise on floats
  EXPECT_THROW(Composite{p}, std::invalid_argument);
  p.instrs[0] = {false, ScalarOpId::exp, DType::Float64, {0}};
  Composite ok(p);
  Var i = vector(DType::Int32, "i");
  EXPECT_THROW(theon::apply(std::make_shared<Composite>(p), {i}), std::invalid_argument);  // wrong dtype
  Var x = vector(DType::Float32, "x");
  auto outs = theon::apply(std::make_shared<Composite>(p), {x});
  auto grads = ok.L_op(*outs[0].owner(), {outs[0]});
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_EQ(grads[0].kind, InputGrad::Kind::Undefined);
}

// Runs f on vals with 1 and with 2 threads (then restores the default) and
// asserts both agree bit for bit with the unfused graph.
void expect_same_bits_any_threads(const std::vector<Var>& ins, const std::vector<Var>& outs,
                                  const std::vector<Array>& vals, Mode mode = kFuseOnly) {
  auto ref = compile(ins, outs, "None");
  auto fused = compile(ins, outs, std::move(mode));
  EXPECT_GE(count_ops(*fused, "Composite"), 1);
  auto want = (*ref)(vals);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto got = (*fused)(vals);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i)
      expect_bit_identical(want[i], got[i], std::to_string(threads) + " thread(s), output " + std::to_string(i));
  }
  set_num_threads(0);
}

TEST(FusionThreads, LargeBroadcastNonContiguousOutputsAreBitIdenticalForOneAndTwoThreads) {
  // (333, 301): 100,233 elements, several chunks of the thread pool, odd run lengths.
  const int64_t R = 333, C = 301;
  Var m = matrix(DType::Float32, "m"), t = matrix(DType::Float32, "t");
  Var row = tensor(DType::Float32, {1, -1}, "row"), col = tensor(DType::Float32, {-1, 1}, "col");
  Var s = scalar(DType::Float32, "s"), i8 = matrix(DType::Int8, "i8");
  Var h = cast(m * 0.5, DType::Float16);
  Var out = sigmoid(m * row + col) * tanh(t) + exp(-(m * m)) * s;
  Var out2 = switch_(gt(m, t), cast(i8, DType::Float32) * row, h * col) - abs(t);
  Var small = exp(row) + s;  // its own (1, C) pass
  Array tv = random_array(DType::Float32, {C, R}, 31).transpose();  // F-ordered
  std::vector<Array> vals{random_array(DType::Float32, {R, C}, 30), tv, random_array(DType::Float32, {1, C}, 32),
                          random_array(DType::Float32, {R, 1}, 33), Array::scalar(DType::Float32, 0.7),
                          random_array(DType::Int8, {R, C}, 34, -100, 100)};
  expect_same_bits_any_threads({m, t, row, col, s, i8}, {out, out2, small, h}, vals);
  expect_same_bits_any_threads({m, t, row, col, s, i8}, {out, out2, small, h}, vals, Mode("FAST_RUN"));
  // A reversed (negative-stride) float64 view, long rows broadcast against a column.
  Array base = random_array(DType::Float64, {7, 9001}, 35);
  Array rev = Array(DType::Float64, {7, 9001}, {9001 * 8, -8}, base.offset() + 9000 * 8, base.buffer());
  Var x = matrix(DType::Float64, "x"), c = tensor(DType::Float64, {-1, 1}, "c");
  expect_same_bits_any_threads({x, c}, {log1p(abs(x * c)) / (c + 4.0) + sigmoid(x)},
                               {rev, random_array(DType::Float64, {7, 1}, 36)});
}

TEST(FusionThreads, InplaceCompositeOnALargeIntermediate) {
  // dot's result is read only by the Composite: FAST_RUN lets it overwrite that buffer.
  Var a = matrix(DType::Float64, "a"), b = matrix(DType::Float64, "b"), v = vector(DType::Float64, "v");
  Var d = dot(a, b);
  Var out = exp(d * 0.01) * v + d;
  std::vector<Array> vals{random_array(DType::Float64, {211, 13}, 37), random_array(DType::Float64, {13, 197}, 38),
                          random_array(DType::Float64, {197}, 39)};
  expect_same_bits_any_threads({a, b, v}, {out}, vals, Mode("FAST_RUN"));
  auto f = compile({a, b, v}, {out});  // keeps the composite alive while it is inspected
  const Composite* c = first_composite(*f);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->name().find("inplace"), std::string::npos) << c->name();
}

TEST(FusionThreads, OddSizesExerciseVectorTails) {
  Var x = vector(DType::Float32, "x"), y = vector(DType::Float32, "y"), k = vector(DType::Int32, "k");
  Var out = maximum(x * y - 1.5, x / (abs(y) + 1.0)) + cast(k, DType::Float32) * sigmoid(y);
  Var out2 = switch_(lt(x, y), k * 3, k - 7);
  for (int64_t n : {int64_t(1), int64_t(3), int64_t(7), int64_t(15), int64_t(17), int64_t(31), int64_t(33),
                    int64_t(63), int64_t(1023), int64_t(1025), int64_t(32767), int64_t(32769), int64_t(65537)}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    expect_same_bits_any_threads({x, y, k}, {out, out2},
                                 {random_array(DType::Float32, {n}, 40), random_array(DType::Float32, {n}, 41),
                                  random_array(DType::Int32, {n}, 42, -50, 50)});
  }
}

TEST(FusionThreads, SigmoidMatchesTheTwoBranchFormulaOnSpecialValues) {
  // sigmoid selects on bits instead of branching; it must give what the
  // textbook two-branch form gives, NaN signs and signed zeros included.
  auto check = [](auto zero) {
    using T = decltype(zero);
    using L = std::numeric_limits<T>;
    std::vector<T> xs{T(0), -T(0), T(1), T(-1), T(1e-30), T(-1e-30), L::denorm_min(), -L::denorm_min(), L::max(),
                      L::lowest(), L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(), T(88.7), T(-88.7),
                      T(-103.9), T(745.2), T(-745.2), T(20), T(-20)};
    DType d = sizeof(T) == 4 ? DType::Float32 : DType::Float64;
    Array xa = Array::empty(d, {int64_t(xs.size())});
    std::memcpy(xa.data(), xs.data(), xs.size() * sizeof(T));
    Var x = vector(d, "x");
    Array got = (*compile({x}, {sigmoid(x)}, "None"))({xa})[0];
    for (size_t i = 0; i < xs.size(); ++i) {
      T a = xs[i];
      T want = a >= 0 ? T(1) / (T(1) + std::exp(-a)) : std::exp(a) / (T(1) + std::exp(a));
      T g = got.data_as<T>()[i];
      EXPECT_EQ(std::memcmp(&want, &g, sizeof(T)), 0) << "sigmoid(" << a << "): want " << want << " got " << g;
    }
  };
  check(float(0));
  check(double(0));
}

TEST(FusionScale, TwentyThousandNodeChainFusesQuickly) {
  Var x = vector(DType::Float64, "x");
  Var t = x;
  for (int i = 0; i < 10000; ++i) t = sin(t) + x;  // 20,000 elementwise nodes
  auto t0 = std::chrono::steady_clock::now();
  auto f = compile({x}, {t});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 10.0);
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise"), 0);
  EXPECT_LT(f->nodes()[0]->op->name().size(), 2100u);  // the shown program is cut short
  Array xv = random_array(DType::Float64, {100}, 27);
  auto ref = compile({x}, {t}, "None");
  expect_same_values((*ref)({xv})[0], (*f)({xv})[0], "chain");
}

}  // namespace
}  // namespace theon::testing
