// RandomOp::perform: the Philox generator, parameter checks and the samplers.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

#include "random_engine.h"
#include "random_internal.h"

namespace theon {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  constexpr uint64_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;
  constexpr uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) k[0] += kW0, k[1] += kW1;
    uint64_t p0 = kM0 * c[0], p1 = kM1 * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1],
         uint32_t(p0)};
  }
  return c;
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Array random_state(uint64_t seed, uint64_t index) {
  uint64_t key = splitmix64(splitmix64(seed) ^ splitmix64(index + 0x632BE59BD9B4E019ull));
  return Array::from_vector<uint64_t>({key, 0}, {2});
}

namespace detail {
namespace {

std::string num(double v) {
  if (v == double(int64_t(v)) && std::abs(v) < 1e15) return std::to_string(int64_t(v));
  std::string s = std::to_string(v);
  return s;
}

// Both arrays broadcast together, as float64 vectors.
std::pair<Array, Array> pair_f64(const Array& a, const Array& b) {
  Shape s = broadcast_shapes(a.shape(), b.shape());
  return {a.broadcast_to(s).contiguous(DType::Float64),
          b.broadcast_to(s).contiguous(DType::Float64)};
}

void check_fits(DType d, double lo, double hi, const std::string& tag, const char* what) {
  if (!is_integer(d)) return;
  double mn = 0, mx = 0;
  visit_dtype(d, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_integral_v<T>) {
      mn = double(std::numeric_limits<T>::min());
      mx = double(std::numeric_limits<T>::max());
    }
  });
  if (lo < mn || hi > mx)
    throw std::invalid_argument(tag + " " + what + " [" + num(lo) + ", " + num(hi) +
                                "] is out of bounds for " + std::string(dtype_name(d)));
}

}  // namespace

void check_random_params(RandomDist dist, DType dtype, bool replace,
                         const std::vector<std::optional<Array>>& p,
                         std::optional<int64_t> nsamples, const std::string& t) {
  auto known = [&](size_t i) { return i < p.size() && p[i].has_value(); };
  switch (dist) {
    case RandomDist::Uniform:
    case RandomDist::Integers: {
      bool ints = dist == RandomDist::Integers;
      for (size_t i = 0; i < 2; ++i)
        if (known(i) && !ints)
          for (double v : p[i]->to_double_vector())
            if (!std::isfinite(v))
              throw std::invalid_argument(t + " " + (i ? "high" : "low") + " must be finite, got " +
                                          num(v));
      if (!known(0) || !known(1)) return;
      auto [lo, hi] = pair_f64(*p[0], *p[1]);
      const double *l = lo.data_as<double>(), *h = hi.data_as<double>();
      for (int64_t i = 0; i < lo.size(); ++i)
        if (l[i] > h[i])
          throw std::invalid_argument(t + " low must be <= high, got low=" + num(l[i]) +
                                      " > high=" + num(h[i]));
      for (int64_t i = 0; i < lo.size(); ++i)
        if (!ints && !std::isfinite(h[i] - l[i]))
          throw std::invalid_argument(t + " high - low must be finite, got low=" + num(l[i]) +
                                      ", high=" + num(h[i]));
      if (ints && lo.size() > 0)
        check_fits(dtype, *std::min_element(l, l + lo.size()), *std::max_element(h, h + hi.size()),
                   t, "range");
      return;
    }
    case RandomDist::Normal:
      if (known(1))
        for (double v : p[1]->to_double_vector())
          if (!(v >= 0))
            throw std::invalid_argument(t + " std must be non-negative, got " + num(v));
      return;
    case RandomDist::Binomial:
      if (known(0))
        for (int64_t v : p[0]->to_int_vector())
          if (v < 0)
            throw std::invalid_argument(t + " n must be non-negative, got " + std::to_string(v));
      if (known(1))
        for (double v : p[1]->to_double_vector())
          if (!(v >= 0 && v <= 1))
            throw std::invalid_argument(t + " p must be in [0, 1], got " + num(v));
      return;
    case RandomDist::Permutation:
      if (known(0)) {
        int64_t n = p[0]->item_int();
        if (n < 0)
          throw std::invalid_argument(t + " n must be non-negative, got " + std::to_string(n));
        check_fits(dtype, 0, double(std::max<int64_t>(n - 1, 0)), t, "values");
      }
      return;
    case RandomDist::Choice: {
      std::optional<int64_t> pop;
      if (known(0) && p[0]->ndim() == 0) {
        pop = p[0]->item_int();
        if (*pop < 0)
          throw std::invalid_argument(t + " a must be a non-negative integer, got " +
                                      std::to_string(*pop));
        check_fits(dtype, 0, double(std::max<int64_t>(*pop - 1, 0)), t, "values");
      } else if (known(0)) {
        pop = p[0]->size();
      }
      if (pop && *pop == 0 && nsamples && *nsamples > 0)
        throw std::invalid_argument(
            t + " a must be non-empty (or a positive integer) unless no samples are taken");
      int64_t nonzero = pop.value_or(0);
      if (known(1)) {
        const Array& pr = *p[1];
        if (pop && pr.size() != *pop)
          throw std::invalid_argument(t + " p must have one probability per element of a: got " +
                                      std::to_string(pr.size()) + " for " + std::to_string(*pop));
        double sum = 0;
        nonzero = 0;
        for (double v : pr.to_double_vector()) {
          if (!(v >= 0 && v <= 1))
            throw std::invalid_argument(t + " probabilities must be in [0, 1], got " + num(v));
          sum += v;
          nonzero += v > 0;
        }
        double tol = std::max(1.5e-8, std::sqrt(pr.dtype() == DType::Float64 ? 2.2e-16 : 1.2e-7));
        if (std::abs(sum - 1) > tol)
          throw std::invalid_argument(t + " probabilities do not sum to 1 (sum=" + num(sum) + ")");
      }
      if (!replace && pop && nsamples && *nsamples > *pop)
        throw std::invalid_argument(t + " cannot take a larger sample (" +
                                    std::to_string(*nsamples) + ") than the population (" +
                                    std::to_string(*pop) + ") when replace=False");
      if (!replace && pop && nsamples && known(1) && *nsamples > nonzero)
        throw std::invalid_argument(t + " fewer non-zero entries in p (" + std::to_string(nonzero) +
                                    ") than the sample size (" + std::to_string(*nsamples) +
                                    ") when replace=False");
      return;
    }
  }
}

Shape random_sample_shape(RandomDist dist, int ndim, const Array& size_input,
                          const std::vector<Array>& params, const std::string& t, int64_t& n) {
  std::vector<int64_t> size = size_input.to_int_vector();
  const bool bc = dist != RandomDist::Choice && dist != RandomDist::Permutation;
  const int nsize = dist == RandomDist::Permutation ? ndim - 1 : ndim;
  for (int64_t v : size)
    if (v < 0)
      throw std::invalid_argument(t + " size must be non-negative, got " + shape_str(size));
  Shape shape = size;
  if (bc && size.empty()) {
    for (const Array& p : params) {
      try {
        shape = broadcast_shapes(shape, p.shape());
      } catch (const std::invalid_argument&) {
        throw std::invalid_argument(
            t + " parameter shapes do not broadcast together: " + shape_str(params[0].shape()) +
            " and " + shape_str(params[1].shape()));
      }
    }
  } else if (bc) {
    for (int i = 0; i < int(params.size()); ++i) {
      const Array& p = params[i];
      bool ok = p.ndim() <= int(shape.size());
      for (int k = 0; ok && k < p.ndim(); ++k) {
        int64_t d = p.shape()[k], o = shape[shape.size() - p.ndim() + k];
        ok = d == 1 || d == o;
      }
      if (!ok)
        throw std::invalid_argument(t + " parameter " + (i ? "2" : "1") + " of shape " +
                                    shape_str(p.shape()) + " cannot be broadcast to size " +
                                    shape_str(shape));
    }
  }
  if (int(shape.size()) != nsize)
    throw std::invalid_argument(t + " the sample has shape " + shape_str(shape) +
                                ", but the op was built for ndim=" + std::to_string(ndim));
  n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::invalid_argument(t + " size " + shape_str(shape) + " is too large");
  return shape;
}

}  // namespace detail

namespace {

using detail::PhiloxStream;

// A parameter broadcast to the sample shape, read as T.
template <class T>
struct Param {
  Array arr;
  const T* p = nullptr;
  int64_t step = 1;
  Param(const Array& a, const Shape& shape) {
    arr = a.size() == 1 ? a.contiguous(dtype_v<T>) : a.broadcast_to(shape).contiguous(dtype_v<T>);
    p = arr.data_as<T>();
    step = a.size() == 1 ? 0 : 1;
  }
  T operator[](int64_t i) const { return p[i * step]; }
};

// The value as stored in dtype d, back in double (for the strict upper bound of uniform).
double round_to(DType d, double x) {
  switch (d) {
    case DType::Float32:
      return double(float(x));
    case DType::Float16:
      return double(float(float16(float(x))));
    case DType::BFloat16:
      return double(float(bfloat16(float(x))));
    default:
      return x;
  }
}

template <class T>
Array finish(const std::vector<T>& v, const Shape& shape, DType dtype) {
  Array a = Array::empty(dtype_v<T>, shape);
  std::copy(v.begin(), v.end(), a.data_as<T>());
  return dtype == dtype_v<T> ? a : a.astype(dtype);
}

// Weighted sampling without replacement through a Fenwick tree of weights.
std::vector<int64_t> weighted_no_replace(PhiloxStream& g, std::vector<double> w, int64_t k) {
  const int64_t n = int64_t(w.size());
  std::vector<double> tree(n + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j <= n; j += j & -j) tree[j] += w[i];
  int64_t top = 1;
  while (top * 2 <= n) top *= 2;
  std::vector<int64_t> out;
  for (int64_t s = 0; s < k; ++s) {
    double total = 0;
    for (int64_t j = n; j > 0; j -= j & -j) total += tree[j];
    double u = g.next_double() * total;
    int64_t pos = 0;
    for (int64_t step = top; step > 0; step /= 2)
      if (pos + step <= n && tree[pos + step] <= u) pos += step, u -= tree[pos];
    while (pos < n && w[pos] <= 0) ++pos;  // rounding at the top: take a live entry
    if (pos == n)
      pos = int64_t(std::find_if(w.begin(), w.end(), [](double x) { return x > 0; }) - w.begin());
    out.push_back(pos);
    for (int64_t j = pos + 1; j <= n; j += j & -j) tree[j] -= w[pos];
    w[pos] = 0;
  }
  return out;
}

std::vector<int64_t> choice_indices(PhiloxStream& g, int64_t pop, int64_t k, bool replace,
                                    const Array* prob) {
  std::vector<int64_t> idx(k);
  if (prob) {
    std::vector<double> w = prob->to_double_vector();
    if (!replace) return weighted_no_replace(g, w, k);
    std::vector<double> cdf(w.size());
    std::partial_sum(w.begin(), w.end(), cdf.begin());
    int64_t last =
        int64_t(std::find_if(w.rbegin(), w.rend(), [](double x) { return x > 0; }).base() -
                w.begin()) -
        1;
    for (auto& i : idx) {
      i = int64_t(std::upper_bound(cdf.begin(), cdf.end(), g.next_double() * cdf.back()) -
                  cdf.begin());
      i = std::min(i, last);
    }
  } else if (replace) {
    for (auto& i : idx) i = int64_t(g.next_below(uint64_t(pop)));
  } else if (pop <= 8 * k || pop <= (1 << 20)) {
    std::vector<int64_t> perm(pop);
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = i + int64_t(g.next_below(uint64_t(pop - i)));
      std::swap(perm[i], perm[j]);
      idx[i] = perm[i];
    }
  } else {
    std::unordered_set<int64_t> seen;
    for (auto& i : idx) do
        i = int64_t(g.next_below(uint64_t(pop)));
      while (!seen.insert(i).second);
  }
  return idx;
}

}  // namespace

void RandomOp::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const std::string t = tag();
  Array st = in[0].contiguous(DType::UInt64);
  if (st.size() != 2)
    throw std::invalid_argument(t + " expected a random state of 2 uint64 values, got shape " +
                                shape_str(st.shape()));
  std::vector<Array> params(in.begin() + 2, in.end());
  int64_t n = 0;
  Shape shape = detail::random_sample_shape(dist_, ndim_, in[1], params, t, n);
  std::vector<std::optional<Array>> known(params.begin(), params.end());
  detail::check_random_params(dist_, dtype_, replace_, known, n, t);

  PhiloxStream g(st.data_as<uint64_t>()[0], st.data_as<uint64_t>()[1]);
  switch (dist_) {
    case RandomDist::Uniform: {
      Param<double> lo(params[0], shape), hi(params[1], shape);
      std::vector<double> v(n);
      for (int64_t i = 0; i < n; ++i) {
        double l = lo[i], h = hi[i], x = l;
        for (int tries = 0; tries < 64 && h > l; ++tries) {
          x = round_to(dtype_, l + (h - l) * g.next_double());
          if (x < h) break;
          x = round_to(dtype_, l);
        }
        v[i] = x;
      }
      out[1] = finish(v, shape, dtype_);
      break;
    }
    case RandomDist::Normal: {
      Param<double> avg(params[0], shape), sd(params[1], shape);
      detail::NormalSampler normal;
      std::vector<double> v(n);
      for (int64_t i = 0; i < n; ++i) v[i] = avg[i] + sd[i] * normal(g);
      out[1] = finish(v, shape, dtype_);
      break;
    }
    case RandomDist::Binomial: {
      Param<int64_t> cnt(params[0], shape);
      Param<double> pr(params[1], shape);
      std::vector<int64_t> v(n);
      for (int64_t i = 0; i < n; ++i) v[i] = detail::sample_binomial(g, cnt[i], pr[i]);
      out[1] = finish(v, shape, dtype_);
      break;
    }
    case RandomDist::Integers: {
      Param<int64_t> lo(params[0], shape), hi(params[1], shape);
      std::vector<int64_t> v(n);
      for (int64_t i = 0; i < n; ++i) {
        uint64_t range = uint64_t(hi[i]) - uint64_t(lo[i]) + 1;
        uint64_t r = range == 0 ? g.next_u64() : g.next_below(range);
        v[i] = int64_t(uint64_t(lo[i]) + r);
      }
      out[1] = finish(v, shape, dtype_);
      break;
    }
    case RandomDist::Choice: {
      const Array& a = params[0];
      int64_t pop = a.ndim() == 0 ? a.item_int() : a.size();
      std::vector<int64_t> idx = choice_indices(g, pop, n, replace_, has_p_ ? &params[1] : nullptr);
      if (a.ndim() == 0) {
        out[1] = finish(idx, shape, dtype_);
      } else {
        Array src = a.contiguous(dtype_), r = Array::empty(dtype_, shape);
        const size_t is = r.itemsize();
        auto* dst = static_cast<char*>(r.data());
        auto* from = static_cast<const char*>(src.data());
        for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * is, from + idx[i] * is, is);
        out[1] = r;
      }
      break;
    }
    case RandomDist::Permutation: {
      int64_t len = params[0].item_int();
      shape.push_back(len);
      int64_t total;
      if (__builtin_mul_overflow(n, len, &total))
        throw std::invalid_argument(t + " size " + shape_str(shape) + " is too large");
      std::vector<int64_t> v(total);
      for (int64_t r = 0; r < n; ++r) {
        int64_t* row = v.data() + r * len;
        std::iota(row, row + len, 0);
        for (int64_t i = len - 1; i > 0; --i) std::swap(row[i], row[g.next_below(uint64_t(i + 1))]);
      }
      out[1] = finish(v, shape, dtype_);
      break;
    }
  }
  out[0] = Array::from_vector<uint64_t>({st.data_as<uint64_t>()[0], g.counter()}, {2});
}

}  // namespace theon
