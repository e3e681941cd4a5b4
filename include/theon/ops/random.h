// theon/ops/random.h — random numbers whose state lives in shared variables.
//
// Randomness is counter based (Philox4x32-10): a generator state is a uint64
// vector [key, counter] held in a shared variable. RandomOp takes
// (state, size, distribution parameters...) and returns (new_state, sample);
// the same state always gives the same sample. RandomStreams creates one
// state per random variable, seeded from the stream's seed and the order of
// creation, and sets the state's default update to the op's new state, so a
// compiled function draws fresh numbers on each call while the same seed and
// the same order of creation reproduce the same sequence.
#pragma once
#include <array>
#include <initializer_list>
#include <optional>

#include "theon/graph/node.h"

namespace theon {

enum class RandomDist : uint8_t { Uniform, Normal, Binomial, Integers, Choice, Permutation };

// "uniform", "normal", "binomial", "random_integers", "choice", "permutation".
const char* random_dist_name(RandomDist d);

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// A generator state [key, counter] (uint64, shape (2,)) derived from a seed and
// a stream index; distinct (seed, index) pairs give unrelated keys.
Array random_state(uint64_t seed, uint64_t index = 0);

// Draws from a distribution. Inputs: (state, size, params...) with size an
// integer vector; params by distribution:
//   uniform(low, high), normal(avg, std), binomial(n, p),
//   random_integers(low, high) (inclusive of high), choice(a[, p]), permutation(n).
// Params of uniform/normal/binomial/random_integers broadcast against size as
// in NumPy; an empty size means the shape of the broadcast params. choice
// draws an array of shape size from range(a) (a scalar) or from a (a vector),
// with probabilities p when given; permutation gives shape size + (n,).
// Outputs: (new_state, sample of `dtype` with `ndim` dimensions).
class RandomOp : public Op {
 public:
  RandomOp(RandomDist dist, DType dtype, int ndim, bool replace = true, bool has_p = false);
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node,
                                        const ShapeExprs& input_shapes) const override;
  // As in Theano, no gradient flows through a draw: the state and size are
  // disconnected, the distribution parameters undefined.
  std::vector<InputGrad> L_op(const ApplyNode& node,
                              const std::vector<Var>& output_grads) const override;

  RandomDist dist() const { return dist_; }
  DType dtype() const { return dtype_; }
  int ndim() const { return ndim_; }
  // Number of distribution parameters the op takes after (state, size).
  int num_params() const;

 private:
  std::string tag() const;  // "[random_uniform]" — the prefix of error messages
  RandomDist dist_;
  DType dtype_;
  int ndim_;
  bool replace_, has_p_;
};

// Applies a RandomOp; returns {new_state, sample}. The output ndim is inferred
// from the length of size (and the params when size is empty); `ndim` must
// agree with it, and is required when the length of size is not static.
std::vector<Var> random_variable(RandomDist dist, const Var& state, const Var& size,
                                 const std::vector<Var>& params, DType dtype,
                                 std::optional<int> ndim = {}, bool replace = true);

// A size argument: constant ints, symbolic int scalars, or an int vector variable.
struct RandomSize {
  Var vec;  // int64 vector
  RandomSize();
  RandomSize(std::initializer_list<int64_t> dims);  // NOLINT: implicit by design
  RandomSize(const std::vector<int64_t>& dims);     // NOLINT
  RandomSize(const std::vector<Var>& dims);         // NOLINT
  RandomSize(const Var& v);                         // NOLINT: an int vector (e.g. shape(x))
};

// A distribution parameter: a number (taking the sample's dtype, as Python
// scalars do) or a variable.
struct RandomParam {
  Var var;
  double value = 0;
  RandomParam(double v) : value(v) {}           // NOLINT: implicit by design
  RandomParam(int v) : value(v) {}              // NOLINT
  RandomParam(int64_t v) : value(double(v)) {}  // NOLINT
  RandomParam(const Var& v) : var(v) {}         // NOLINT
  bool is_var() const { return var.defined(); }
};

// Theano's RandomStreams: a factory of random variables with shared states.
class RandomStreams {
 public:
  explicit RandomStreams(uint64_t seed = 12345);
  // Uniform on [low, high); dtype defaults to floatX upcast with the params' float dtypes.
  Var uniform(const RandomSize& size = {}, const RandomParam& low = 0.0,
              const RandomParam& high = 1.0, std::optional<int> ndim = {},
              std::optional<DType> dtype = {});
  Var normal(const RandomSize& size = {}, const RandomParam& avg = 0.0,
             const RandomParam& std = 1.0, std::optional<int> ndim = {},
             std::optional<DType> dtype = {});
  Var binomial(const RandomSize& size = {}, const RandomParam& n = 1, const RandomParam& p = 0.5,
               std::optional<int> ndim = {}, DType dtype = DType::Int64);
  // Integers in [low, high], high included (Theano's random_integers).
  Var random_integers(const RandomSize& size = {}, const RandomParam& low = 0,
                      const RandomParam& high = 1, std::optional<int> ndim = {},
                      DType dtype = DType::Int64);
  // Samples of `a` (range(a) when a is a scalar) with probabilities p (undefined: uniform).
  Var choice(const RandomSize& size = {}, const RandomParam& a = 2, bool replace = true,
             const Var& p = {}, std::optional<int> ndim = {}, DType dtype = DType::Int64);
  // Permutations of range(n), one per entry of size: shape size + (n,).
  Var permutation(const RandomSize& size = {}, const RandomParam& n = 1,
                  std::optional<int> ndim = {}, DType dtype = DType::Int64);

  // Reseeds every state created so far, as if they had been created under `seed`.
  void seed(uint64_t seed);
  uint64_t get_seed() const { return seed_; }
  // (state, new_state) for every random variable created, in creation order.
  const std::vector<std::pair<Var, Var>>& state_updates() const { return updates_; }

 private:
  Var make(RandomDist dist, const RandomSize& size, std::vector<Var> params, DType dtype,
           std::optional<int> ndim, bool replace = true);
  uint64_t seed_;
  std::vector<std::pair<Var, Var>> updates_;
};

}  // namespace theon
