// Initializers: seeded draws of layer parameters (see theon/nn/initializers.h).
#include "theon/nn/initializers.h"

#include <atomic>
#include <cmath>
#include <random>
#include <stdexcept>

namespace theon::nn {

namespace {
std::atomic<uint64_t> g_seed{0x5eed};
std::atomic<uint64_t> g_counter{0};

uint64_t mix(uint64_t x) {  // splitmix64: decorrelates consecutive seeds
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string canonical(const std::string& n) {
  if (n == "xavier_uniform") return "glorot_uniform";
  if (n == "xavier_normal") return "glorot_normal";
  if (n == "kaiming_uniform") return "he_uniform";
  if (n == "kaiming_normal") return "he_normal";
  static const char* known[] = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                                "lecun_normal", "orthogonal", "zeros", "ones", "constant", "uniform", "normal"};
  for (const char* k : known)
    if (n == k) return n;
  throw std::invalid_argument("[initializer] unknown initializer '" + n +
                              "'; expected one of glorot_uniform, glorot_normal, he_uniform, he_normal, "
                              "lecun_uniform, lecun_normal, orthogonal, zeros, ones, constant, uniform, normal");
}

// Normal truncated at 2 sigma, scaled so the truncated variance is stddev^2.
double truncated_normal(std::mt19937_64& rng, double stddev) {
  std::normal_distribution<double> n(0.0, 1.0);
  double z;
  do z = n(rng);
  while (std::fabs(z) > 2.0);
  return z * stddev / 0.87962566103423978;
}
}  // namespace

void set_global_seed(uint64_t seed) {
  g_seed = seed;
  g_counter = 0;
}
uint64_t next_seed() { return mix(g_seed.load() ^ mix(g_counter++)); }

Initializer::Initializer(const char* n) : Initializer(std::string(n)) {}
Initializer::Initializer(std::string n) : name(canonical(n)) {}
Initializer Initializer::constant(double v) {
  Initializer i("constant");
  i.value = v;
  return i;
}
Initializer Initializer::orthogonal(double gain) {
  Initializer i("orthogonal");
  i.gain = gain;
  return i;
}
Initializer Initializer::uniform(double minval, double maxval) {
  Initializer i("uniform");
  i.a = minval;
  i.b = maxval;
  return i;
}
Initializer Initializer::normal(double mean, double stddev) {
  Initializer i("normal");
  i.a = mean;
  i.b = stddev;
  return i;
}

std::pair<double, double> compute_fans(const std::vector<int64_t>& shape) {
  if (shape.empty()) return {1, 1};
  if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
  if (shape.size() == 2) return {double(shape[0]), double(shape[1])};
  double rf = 1;
  for (size_t i = 2; i < shape.size(); ++i) rf *= double(shape[i]);
  return {double(shape[1]) * rf, double(shape[0]) * rf};
}

Array Initializer::operator()(const std::vector<int64_t>& shape, DType dtype, uint64_t seed) const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("[initializer] " + name + ": negative dimension in shape");
    n *= d;
  }
  std::vector<double> v(size_t(n), 0.0);
  std::mt19937_64 rng(mix(seed));
  auto [fan_in, fan_out] = compute_fans(shape);
  auto fill_uniform = [&](double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& x : v) x = u(rng);
  };
  auto fill_tnormal = [&](double sd) {
    for (auto& x : v) x = truncated_normal(rng, sd);
  };
  if (name == "zeros") {
  } else if (name == "ones") {
    for (auto& x : v) x = 1;
  } else if (name == "constant") {
    for (auto& x : v) x = value;
  } else if (name == "uniform") {
    fill_uniform(a, b);
  } else if (name == "normal") {
    std::normal_distribution<double> nd(a, b);
    for (auto& x : v) x = nd(rng);
  } else if (name == "glorot_uniform") {
    double l = std::sqrt(6.0 / (fan_in + fan_out));
    fill_uniform(-l, l);
  } else if (name == "glorot_normal") {
    fill_tnormal(std::sqrt(2.0 / (fan_in + fan_out)));
  } else if (name == "he_uniform") {
    double l = std::sqrt(6.0 / fan_in);
    fill_uniform(-l, l);
  } else if (name == "he_normal") {
    fill_tnormal(std::sqrt(2.0 / fan_in));
  } else if (name == "lecun_uniform") {
    double l = std::sqrt(3.0 / fan_in);
    fill_uniform(-l, l);
  } else if (name == "lecun_normal") {
    fill_tnormal(std::sqrt(1.0 / fan_in));
  } else if (name == "orthogonal") {
    if (shape.size() < 2)
      throw std::invalid_argument("[initializer] orthogonal needs a shape of rank >= 2, got rank " +
                                  std::to_string(shape.size()));
    // Rows = first dim, cols = the rest flattened; orthonormalize the shorter side
    // (modified Gram-Schmidt on a Gaussian matrix, which gives a Haar-random basis).
    int64_t rows = shape[0], cols = n / std::max<int64_t>(rows, 1);
    bool tr = rows < cols;
    int64_t r = tr ? cols : rows, c = tr ? rows : cols;  // r >= c; orthonormal columns of an r x c matrix
    std::vector<double> m(size_t(r * c));
    std::normal_distribution<double> nd(0.0, 1.0);
    for (auto& x : m) x = nd(rng);
    for (int64_t j = 0; j < c; ++j) {
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < r; ++i) dot += m[size_t(i * c + j)] * m[size_t(i * c + k)];
        for (int64_t i = 0; i < r; ++i) m[size_t(i * c + j)] -= dot * m[size_t(i * c + k)];
      }
      double nrm = 0;
      for (int64_t i = 0; i < r; ++i) nrm += m[size_t(i * c + j)] * m[size_t(i * c + j)];
      nrm = std::sqrt(nrm);
      for (int64_t i = 0; i < r; ++i) m[size_t(i * c + j)] /= nrm;
    }
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        v[size_t(i * cols + j)] = gain * (tr ? m[size_t(j * c + i)] : m[size_t(i * c + j)]);
  }
  Array out = Array::from_vector(v, shape);
  return dtype == DType::Float64 ? out : out.astype(dtype);
}

Json Initializer::to_json() const {
  Json j = Json::object();
  j.set("name", name);
  if (name == "constant") j.set("value", value);
  if (name == "orthogonal") j.set("gain", gain);
  if (name == "uniform") j.set("minval", a).set("maxval", b);
  if (name == "normal") j.set("mean", a).set("stddev", b);
  return j;
}

Initializer Initializer::from_json(const Json& j) {
  if (j.is_string()) return Initializer(j.as_string());
  Initializer i(j.at("name").as_string("initializer name"));
  i.value = j.get("value", 0.0).as_double("constant value");
  i.gain = j.get("gain", 1.0).as_double("orthogonal gain");
  if (i.name == "uniform") {
    i.a = j.get("minval", -0.05).as_double("minval");
    i.b = j.get("maxval", 0.05).as_double("maxval");
  } else if (i.name == "normal") {
    i.a = j.get("mean", 0.0).as_double("mean");
    i.b = j.get("stddev", 0.05).as_double("stddev");
  }
  return i;
}

}  // namespace theon::nn
