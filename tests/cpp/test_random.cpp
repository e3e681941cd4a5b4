// Random: Philox known answers, reproducibility, state advancing, distribution checks, errors.
#include <gtest/gtest.h>
#include <theon/ops/random.h>
#include <theon/theon.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace theon;

namespace {

Array draw(const Var& v) {
  return (*function({}, {v}))({})[0];
}

template <class F>
void expect_error(F&& f, const std::string& part) {
  try {
    f();
    FAIL() << "expected an error containing '" << part << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}
double var(const std::vector<double>& v) {
  double m = mean(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / double(v.size() - 1);
}
// Kolmogorov-Smirnov statistic of the samples against the CDF.
template <class Cdf>
double ks(std::vector<double> v, Cdf cdf) {
  std::sort(v.begin(), v.end());
  double d = 0, n = double(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double f = cdf(v[i]);
    d = std::max({d, std::abs(f - double(i) / n), std::abs(f - double(i + 1) / n)});
  }
  return d;
}

}  // namespace

TEST(RandomPhilox, KnownAnswers) {
  // Random123 known-answer vectors for philox4x32-10.
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(RandomStreams, SameSeedSameSequenceAndCallsAdvance) {
  RandomStreams a(42), b(42), c(43);
  Var ua = a.uniform({5}), na = a.normal({3});
  Var ub = b.uniform({5}), nb = b.normal({3});
  Var uc = c.uniform({5});
  auto fa = function({}, {ua, na}), fb = function({}, {ub, nb}), fc = function({}, {uc});
  auto ra1 = (*fa)({}), ra2 = (*fa)({});
  auto rb1 = (*fb)({}), rb2 = (*fb)({});
  EXPECT_EQ(ra1[0].to_double_vector(), rb1[0].to_double_vector());
  EXPECT_EQ(ra1[1].to_double_vector(), rb1[1].to_double_vector());
  EXPECT_EQ(ra2[0].to_double_vector(), rb2[0].to_double_vector());
  EXPECT_NE(ra1[0].to_double_vector(), ra2[0].to_double_vector());  // state advanced
  EXPECT_NE(ra1[0].to_double_vector(), (*fc)({})[0].to_double_vector());
  EXPECT_NE(ra1[0].to_double_vector(), ra1[1].to_double_vector());
  // Reseeding restarts every stream.
  a.seed(42);
  EXPECT_EQ((*fa)({})[0].to_double_vector(), ra1[0].to_double_vector());
  a.seed(7);
  EXPECT_NE((*fa)({})[0].to_double_vector(), ra1[0].to_double_vector());
  EXPECT_EQ(a.state_updates().size(), 2u);
}

TEST(RandomStreams, SameStateInOneCallGivesOneDraw) {
  RandomStreams rs(1);
  Var u = rs.uniform({4});
  auto f = function({}, {u, u * 2.0});
  auto r = (*f)({});
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(r[1].item_double(i), 2 * r[0].item_double(i));
}

TEST(RandomUniform, MomentsAndKS) {
  RandomStreams rs(3);
  Var u = rs.uniform({200000}, -2.0, 3.0, {}, DType::Float64);
  std::vector<double> v = draw(u).to_double_vector();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0);
  EXPECT_NEAR(mean(v), 0.5, 0.02);
  EXPECT_NEAR(var(v), 25.0 / 12, 0.03);
  EXPECT_LT(ks(v, [](double x) { return (x + 2) / 5; }), 0.005);
}

TEST(RandomUniform, DtypesAndStaticShape) {
  RandomStreams rs(4);
  Var u = rs.uniform({2, 3});
  EXPECT_EQ(u.dtype(), config().floatX);
  EXPECT_EQ(u.type().shape, (std::vector<int64_t>{2, 3}));
  Var h = rs.uniform({50000}, 0.0, 1.0, {}, DType::Float16);
  Array a = draw(h);
  EXPECT_EQ(a.dtype(), DType::Float16);
  std::vector<double> v = a.to_double_vector();
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
  EXPECT_NEAR(mean(v), 0.5, 0.01);
  Var lo = scalar(DType::Float64, "lo");
  EXPECT_EQ(rs.uniform({2}, lo, 1.0).dtype(), DType::Float64);  // floatX upcast with the params
  EXPECT_EQ(rs.normal({2}, 0.0, 1.0, {}, DType::BFloat16).dtype(), DType::BFloat16);
}

TEST(RandomUniform, ParamsBroadcastAgainstSize) {
  RandomStreams rs(5);
  Var lo = constant(Array::from_vector<double>({0, 10, 100}, {3}));
  Array a = draw(rs.uniform({400, 3}, lo, lo + 1.0, {}, DType::Float64));
  ASSERT_EQ(a.shape(), (Shape{400, 3}));
  for (int64_t i = 0; i < 400; ++i)
    for (int j = 0; j < 3; ++j) {
      double x = a.item_double(i * 3 + j), l = j == 0 ? 0 : j == 1 ? 10 : 100;
      EXPECT_TRUE(x >= l && x < l + 1) << x;
    }
  // An empty size takes the shape of the params.
  Var e = rs.uniform({}, lo, 1000.0);
  EXPECT_EQ(e.type().shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(draw(e).shape(), (Shape{3}));
  EXPECT_EQ(draw(rs.uniform()).ndim(), 0);
}

TEST(RandomUniform, SymbolicSizeFromShape) {
  RandomStreams rs(6);
  Var x = matrix(DType::Float32, "x");
  Var u = rs.uniform(shape(x), 0.0, 1.0);
  EXPECT_EQ(u.ndim(), 2);
  Var y = x + u;
  auto f = function({x}, {y, u});
  auto r = (*f)({Array::zeros(DType::Float32, {4, 7})});
  EXPECT_EQ(r[1].shape(), (Shape{4, 7}));
  EXPECT_EQ(r[0].to_double_vector(), r[1].to_double_vector());
  // Symbolic entries mixed with constants keep the constant ones static.
  Var n = scalar(DType::Int64, "n");
  Var w = rs.normal(std::vector<Var>{n, constant(3.0, DType::Int64)});
  EXPECT_EQ(w.type().shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ((*function({n}, {w}))({Array::scalar(DType::Int64, 5)})[0].shape(), (Shape{5, 3}));
  // A vector of unknown length needs ndim.
  Var sz = vector(DType::Int64, "sz");
  expect_error([&] { rs.uniform(sz); }, "pass ndim");
  Var z = rs.uniform(sz, 0.0, 1.0, 3);
  auto g = function({sz}, {z});
  EXPECT_EQ((*g)({Array::from_vector<int64_t>({2, 1, 3})})[0].shape(), (Shape{2, 1, 3}));
  expect_error([&] { (*g)({Array::from_vector<int64_t>({2, 3})}); }, "ndim=3");
}

TEST(RandomNormal, MomentsAndKS) {
  RandomStreams rs(7);
  std::vector<double> v =
      draw(rs.normal({200000}, 1.5, 2.0, {}, DType::Float64)).to_double_vector();
  EXPECT_NEAR(mean(v), 1.5, 0.02);
  EXPECT_NEAR(std::sqrt(var(v)), 2.0, 0.02);
  EXPECT_LT(ks(v, [](double x) { return 0.5 * std::erfc(-(x - 1.5) / (2.0 * std::sqrt(2.0))); }),
            0.005);
  // Per-element params.
  Var avg = constant(Array::from_vector<double>({-100, 100}, {2}));
  Array a = draw(rs.normal({1000, 2}, avg, 1.0, {}, DType::Float64));
  std::vector<double> c0, c1;
  for (int i = 0; i < 1000; ++i)
    c0.push_back(a.item_double(2 * i)), c1.push_back(a.item_double(2 * i + 1));
  EXPECT_NEAR(mean(c0), -100, 0.2);
  EXPECT_NEAR(mean(c1), 100, 0.2);
}

TEST(RandomBinomial, SmallAndLargeNMatchMoments) {
  RandomStreams rs(8);
  struct Case {
    int64_t n;
    double p;
  };
  for (Case c : {Case{1, 0.3}, Case{5, 0.3}, Case{1000, 0.4}, Case{100, 0.9}, Case{20000, 0.5}}) {
    std::vector<double> v = draw(rs.binomial({100000}, c.n, c.p)).to_double_vector();
    double m = double(c.n) * c.p, s2 = m * (1 - c.p);
    EXPECT_NEAR(mean(v), m, 5 * std::sqrt(s2 / 1e5)) << c.n << " " << c.p;
    EXPECT_NEAR(var(v), s2, 0.03 * s2) << c.n << " " << c.p;
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0);
    EXPECT_LE(*std::max_element(v.begin(), v.end()), double(c.n));
  }
  // Frequencies of Binomial(5, 0.3) against the pmf.
  std::vector<double> v = draw(rs.binomial({100000}, 5, 0.3)).to_double_vector();
  const double pmf[] = {0.16807, 0.36015, 0.3087, 0.1323, 0.02835, 0.00243};
  for (int k = 0; k <= 5; ++k) {
    double f = double(std::count(v.begin(), v.end(), double(k))) / 1e5;
    EXPECT_NEAR(f, pmf[k], 4 * std::sqrt(pmf[k] * (1 - pmf[k]) / 1e5) + 1e-4) << k;
  }
  // Frequencies of Binomial(50, 0.4) (the rejection sampler) against the pmf.
  std::vector<double> w = draw(rs.binomial({100000}, 50, 0.4)).to_double_vector();
  for (int k = 10; k <= 30; ++k) {
    double pk = std::exp(std::lgamma(51.0) - std::lgamma(k + 1.0) - std::lgamma(51.0 - k) +
                         k * std::log(0.4) + (50 - k) * std::log(0.6));
    double f = double(std::count(w.begin(), w.end(), double(k))) / 1e5;
    EXPECT_NEAR(f, pk, 4 * std::sqrt(pk * (1 - pk) / 1e5) + 1e-4) << k;
  }
  // Float dtype (dropout masks) and edge probabilities.
  Array mask = draw(rs.binomial({10}, 1, 1.0, {}, DType::Float32));
  EXPECT_EQ(mask.dtype(), DType::Float32);
  EXPECT_EQ(mask.to_double_vector(), std::vector<double>(10, 1.0));
  EXPECT_EQ(draw(rs.binomial({10}, 7, 0.0)).to_double_vector(), std::vector<double>(10, 0.0));
}

TEST(RandomIntegers, InclusiveUniformCounts) {
  RandomStreams rs(9);
  Array a = draw(rs.random_integers({70000}, -3, 3));
  EXPECT_EQ(a.dtype(), DType::Int64);
  std::map<int64_t, int> counts;
  for (int64_t x : a.to_int_vector()) counts[x]++;
  ASSERT_EQ(counts.size(), 7u);
  EXPECT_EQ(counts.begin()->first, -3);
  EXPECT_EQ(counts.rbegin()->first, 3);
  for (auto& [k, c] : counts) EXPECT_NEAR(c, 10000, 400) << k;
  Array u8 = draw(rs.random_integers({100}, 250, 255, {}, DType::UInt8));
  EXPECT_EQ(u8.dtype(), DType::UInt8);
  for (int64_t x : u8.to_int_vector()) EXPECT_TRUE(x >= 250 && x <= 255);
  EXPECT_EQ(draw(rs.random_integers({3}, 4, 4)).to_int_vector(), (std::vector<int64_t>{4, 4, 4}));
}

TEST(RandomChoice, WithAndWithoutReplacement) {
  RandomStreams rs(10);
  std::vector<int64_t> v = draw(rs.choice({60000}, 6)).to_int_vector();
  std::map<int64_t, int> counts;
  for (int64_t x : v) counts[x]++;
  ASSERT_EQ(counts.size(), 6u);
  for (auto& [k, c] : counts) EXPECT_NEAR(c, 10000, 400) << k;
  // Probabilities.
  Var p = constant(Array::from_vector<double>({0.1, 0.0, 0.6, 0.3}));
  counts.clear();
  for (int64_t x : draw(rs.choice({50000}, 4, true, p)).to_int_vector()) counts[x]++;
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_NEAR(counts[0], 5000, 300);
  EXPECT_NEAR(counts[2], 30000, 400);
  // Without replacement: distinct values; weighted without replacement too.
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<int64_t> s = draw(rs.choice({2, 5}, 10, false)).to_int_vector();
    EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), 10u);
    std::vector<int64_t> w = draw(rs.choice({3}, 4, false, p)).to_int_vector();
    EXPECT_EQ(std::set<int64_t>(w.begin(), w.end()), (std::set<int64_t>{0, 2, 3}));
  }
  // From an array: values of a, in the requested dtype.
  Var a = constant(Array::from_vector<double>({1.5, 2.5, 3.5}));
  Array r = draw(rs.choice({100}, a, true, {}, {}, DType::Float64));
  for (double x : r.to_double_vector()) EXPECT_TRUE(x == 1.5 || x == 2.5 || x == 3.5);
}

TEST(RandomPermutation, RowsArePermutations) {
  RandomStreams rs(11);
  Var pv = rs.permutation({3000}, 5);
  EXPECT_EQ(pv.type().shape, (std::vector<int64_t>{3000, 5}));
  Array a = draw(pv);
  std::vector<int> first(5, 0);
  for (int r = 0; r < 3000; ++r) {
    std::vector<int64_t> row;
    for (int j = 0; j < 5; ++j) row.push_back(a.item_int(r * 5 + j));
    first[row[0]]++;
    std::sort(row.begin(), row.end());
    EXPECT_EQ(row, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  }
  for (int c : first) EXPECT_NEAR(c, 600, 90);
  EXPECT_EQ(draw(rs.permutation({}, 4)).shape(), (Shape{4}));
  Var n = scalar(DType::Int64, "n");
  Var q = rs.permutation({2}, n);
  EXPECT_EQ((*function({n}, {shape(q)}))({Array::scalar(DType::Int64, 6)})[0].to_int_vector(),
            (std::vector<int64_t>{2, 6}));
}

TEST(RandomErrors, BadParamsAreRejected) {
  RandomStreams rs(12);
  expect_error([&] { rs.uniform({2, -1}); }, "[random_uniform] size must be non-negative");
  expect_error([&] { rs.uniform({2}, 1.0, 0.0); }, "[random_uniform] low must be <= high");
  expect_error([&] { rs.uniform({2}, -1e308, 1e308, {}, DType::Float64); },
               "high - low must be finite");
  expect_error([&] { rs.random_integers({2}, 5, 2); }, "[random_integers] low must be <= high");
  expect_error([&] { rs.random_integers({2}, 0, 300, {}, DType::UInt8); },
               "out of bounds for uint8");
  expect_error([&] { rs.normal({2}, 0.0, -1.0); }, "[random_normal] std must be non-negative");
  expect_error([&] { rs.binomial({2}, 3, 1.5); }, "[random_binomial] p must be in [0, 1]");
  expect_error([&] { rs.binomial({2}, -3, 0.5); }, "n must be non-negative");
  expect_error([&] { rs.choice({5}, 3, false); },
               "cannot take a larger sample (5) than the population (3)");
  expect_error([&] { rs.permutation({2}, -1); }, "[random_permutation] n must be non-negative");
  expect_error([&] { rs.uniform({2}, 0.0, 1.0, {}, DType::Int32); }, "dtype must be a float dtype");
  expect_error([&] { rs.uniform({2, 3}, 0.0, 1.0, 3); }, "ndim=3");
  Var lo3 = constant(Array::from_vector<double>({0, 1, 2}));
  expect_error([&] { rs.uniform({2, 4}, lo3, 5.0); }, "cannot be broadcast to size (2, 4)");
  Var p = constant(Array::from_vector<double>({0.5, 0.6}));
  expect_error([&] { rs.choice({2}, 2, true, p); }, "do not sum to 1");
  expect_error([&] { rs.binomial({2}, 1.5, 0.5); }, "n must be an integer");
}

TEST(RandomErrors, RuntimeChecksLeaveStateUnchanged) {
  RandomStreams rs(13);
  Var lo = scalar(DType::Float64, "lo"), hi = scalar(DType::Float64, "hi");
  Var u = rs.uniform({3}, lo, hi);
  auto f = function({lo, hi}, {u});
  Var state = rs.state_updates()[0].first;
  Array before = get_value(state);
  expect_error(
      [&] {
        (*f)({Array::scalar(DType::Float64, 2), Array::scalar(DType::Float64, 1)});
      },
      "low must be <= high");
  EXPECT_EQ(get_value(state).to_int_vector(), before.to_int_vector());
  Array r = (*f)({Array::scalar(DType::Float64, 1), Array::scalar(DType::Float64, 2)})[0];
  EXPECT_NE(get_value(state).to_int_vector(), before.to_int_vector());
  for (double x : r.to_double_vector()) EXPECT_TRUE(x >= 1 && x < 2);
  Var k = scalar(DType::Int64, "k");
  auto g = function({k}, {rs.choice(std::vector<Var>{k}, 4, false)});
  EXPECT_EQ((*g)({Array::scalar(DType::Int64, 4)})[0].size(), 4);
  expect_error([&] { (*g)({Array::scalar(DType::Int64, 5)}); }, "cannot take a larger sample");
  expect_error([&] { (*g)({Array::scalar(DType::Int64, -1)}); }, "size must be non-negative");
}

TEST(RandomOp, PropsAndStateType) {
  RandomOp a(RandomDist::Uniform, DType::Float32, 2), b(RandomDist::Uniform, DType::Float32, 2);
  RandomOp c(RandomDist::Normal, DType::Float32, 2);
  EXPECT_TRUE(a.equals(b));
  EXPECT_FALSE(a.equals(c));
  Var bad_state = shared(Array::zeros(DType::Int64, {2}));
  expect_error(
      [&] {
        random_variable(RandomDist::Uniform, bad_state, RandomSize({2}).vec,
                        {constant(0.0, DType::Float32), constant(1.0, DType::Float32)},
                        DType::Float32);
      },
      "uint64 vector of length 2");
}
