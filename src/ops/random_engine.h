// Internal: the Philox stream behind RandomOp and the scalar samplers.
//
// A PhiloxStream turns a state [key, counter] into a sequence of 32-bit
// words, one Philox block (four words) per counter value; the counter after
// drawing is the new state. The samplers draw one value of a distribution.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "theon/ops/random.h"

namespace theon::detail {

class PhiloxStream {
 public:
  PhiloxStream(uint64_t key, uint64_t counter) : key_(key), counter_(counter) {}

  uint32_t next_u32() {
    if (pos_ == 4) {
      buf_ = philox4x32_10({uint32_t(counter_), uint32_t(counter_ >> 32), 0, 0},
                           {uint32_t(key_), uint32_t(key_ >> 32)});
      ++counter_;
      pos_ = 0;
    }
    return buf_[pos_++];
  }
  uint64_t next_u64() {
    uint64_t lo = next_u32();
    return lo | (uint64_t(next_u32()) << 32);
  }
  // Uniform on [0, 1) with 53 random bits.
  double next_double() { return double(next_u64() >> 11) * 0x1p-53; }
  // Uniform on (0, 1): never 0, so log() is finite.
  double next_open() { return (double(next_u64() >> 11) + 0.5) * 0x1p-53; }
  // Uniform integer in [0, range) without bias (Lemire's method); range > 0.
  uint64_t next_below(uint64_t range) {
    unsigned __int128 m = (unsigned __int128)next_u64() * range;
    uint64_t low = uint64_t(m);
    if (low < range) {
      uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = (unsigned __int128)next_u64() * range;
        low = uint64_t(m);
      }
    }
    return uint64_t(m >> 64);
  }
  uint64_t counter() const { return counter_; }

 private:
  uint64_t key_, counter_;
  std::array<uint32_t, 4> buf_{};
  int pos_ = 4;
};

// Standard normal by the Box-Muller transform; the second value of each pair is kept.
class NormalSampler {
 public:
  double operator()(PhiloxStream& g) {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double r = std::sqrt(-2.0 * std::log(g.next_open()));
    double t = 2.0 * M_PI * g.next_double();
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  double spare_ = 0;
  bool has_spare_ = false;
};

// log(k!) - Stirling's approximation of it (exact table below 10).
inline double stirling_tail(double k) {
  static const double table[] = {0.0810614667953272,  0.0413406959554092, 0.0276779256849983,
                                 0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                                 0.0118967099458917,  0.0104112652619720, 0.00925546218271273,
                                 0.00833056343336287};
  if (k <= 9) return table[int(k)];
  double kp1sq = (k + 1) * (k + 1);
  return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}

// Binomial(n, p) for n >= 0 and p in [0, 1]: waiting times of a geometric
// process when n*p is small, else Hörmann's BTRS transformed rejection.
inline int64_t sample_binomial(PhiloxStream& g, int64_t n, double p) {
  if (n == 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - sample_binomial(g, n, 1 - p);
  if (double(n) * p < 10) {
    double log1mp = std::log1p(-p);
    int64_t count = 0;
    double sum = 0;
    while (true) {
      sum += std::ceil(std::log(g.next_open()) / log1mp);
      if (sum > double(n)) return count;
      ++count;
    }
  }
  double dn = double(n), spq = std::sqrt(dn * p * (1 - p));
  double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = dn * p + 0.5;
  double v_r = 0.92 - 4.2 / b, r = p / (1 - p), alpha = (2.83 + 5.1 / b) * spq;
  double m = std::floor((dn + 1) * p);
  while (true) {
    double u = g.next_double() - 0.5, v = g.next_open();
    double us = 0.5 - std::abs(u);
    double k = std::floor((2 * a / us + b) * u + c);
    if (k < 0 || k > dn) continue;
    if (us >= 0.07 && v <= v_r) return int64_t(k);
    v = std::log(v * alpha / (a / (us * us) + b));
    double bound = (m + 0.5) * std::log((m + 1) / (r * (dn - m + 1))) +
                   (dn + 1) * std::log((dn - m + 1) / (dn - k + 1)) +
                   (k + 0.5) * std::log(r * (dn - k + 1) / (k + 1)) + stirling_tail(m) +
                   stirling_tail(dn - m) - stirling_tail(k) - stirling_tail(dn - k);
    if (v <= bound) return int64_t(k);
  }
}

}  // namespace theon::detail
