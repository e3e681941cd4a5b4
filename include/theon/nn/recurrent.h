// theon/nn/recurrent.h — recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional) on theon's scan.
//
// The layers follow Keras: inputs are (batch, time, features); the output is
// the last step's output (batch, units), or every step's (batch, time, units)
// with return_sequences. Parameters have Keras' layout, so weights copied
// from Keras load unchanged:
//   kernel            (features, k * units)   the input projection of every gate
//   recurrent_kernel  (units, k * units)      the state projection of every gate
//   bias              (k * units)             GRU with reset_after: (2, 3 * units),
//                                             row 0 the input bias, row 1 the recurrent one
// with k = 1 (SimpleRNN), 4 (LSTM, gates i, f, c, o) or 3 (GRU, gates z, r, h).
//   SimpleRNN  h = act(x W + h_{t-1} U + b)
//   LSTM       [i f c~ o] = [rec_act, rec_act, act, rec_act](x W + h_{t-1} U + b)
//              c = f * c_{t-1} + i * c~,  h = o * act(c)
//   GRU        z, r = rec_act(x W_zr + b_zr + h_{t-1} U_zr + b'_zr)
//              reset_after:  h~ = act(x W_h + b_h + r * (h_{t-1} U_h + b'_h))   (Keras' default, cuDNN's, PyTorch's)
//              otherwise:    h~ = act(x W_h + b_h + (r * h_{t-1}) U_h)
//              h = z * h_{t-1} + (1 - z) * h~
// The input projection x W + b of all steps is one matrix product before the
// loop; the loop (a Scan, or an unrolled graph with unroll=true and a static
// number of steps) does only h_{t-1} U and the elementwise gate work, and its
// gradient is scan's backward loop (backpropagation through time).
//
// Masks: a second input (batch, time) of 0/1 (any dtype; nonzero keeps the
// step) marks the valid steps of variable-length sequences. A masked step
// keeps the previous state (h and c pass through unchanged); its output is the
// carried state, or zeros with zero_output_for_mask (as Keras; Bidirectional
// sets it so that the two directions merge cleanly). Dropout and
// recurrent_dropout are not implemented.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "theon/nn/layer.h"

namespace theon::nn {

enum class RNNKind { SimpleRNN, LSTM, GRU };

struct RNNOptions {
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";  // the gates (LSTM, GRU)
  bool use_bias = true;
  bool return_sequences = false;
  // call_with_state() / Python's layer(x) return [output, states...]; inside a
  // Model (Sequential or functional) the layer contributes its output only.
  bool return_state = false;
  bool go_backwards = false;  // process the time axis from the end; sequences come out reversed
  bool unroll = false;        // a plain graph per step instead of a Scan (needs a static time axis)
  bool zero_output_for_mask = false;
  bool unit_forget_bias = true;  // LSTM: the forget gate's bias starts at 1
  bool reset_after = true;       // GRU: the reset gate applies after the recurrent product
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer recurrent_regularizer{};
  Regularizer bias_regularizer{};
  std::string name{};
};

// The parameters of one recurrent layer (see the layout above).
struct RNNWeights {
  Var kernel, recurrent_kernel, bias;  // bias undefined without use_bias
};

// What a recurrent pass returns: the output and the final states (h, or h and c for LSTM).
struct RNNOutput {
  Var output;
  std::vector<Var> states;
};

// Gates per unit: 1, 4 or 3.
int rnn_gate_count(RNNKind kind);
const char* rnn_kind_name(RNNKind kind);

// The recurrent pass on explicit weights (the layers' forward pass; usable
// with verify_grad). x: (batch, time, features); mask: undefined or (batch,
// time); initial_state: empty (zeros) or one (batch, units) tensor per state.
RNNOutput rnn_forward(RNNKind kind, int64_t units, const RNNOptions& o, const RNNWeights& w, const Var& x,
                      const Var& mask = {}, const std::vector<Var>& initial_state = {});

namespace detail {
// Checks a recurrent layer's inputs: (batch, time, features) and an optional
// mask; throws std::invalid_argument prefixed with `who` otherwise.
void check_recurrent_inputs(const std::string& who, const std::vector<TensorType>& t);
}  // namespace detail

// SimpleRNN / LSTM / GRU as a layer: inputs x or (x, mask).
class Recurrent : public Layer {
 public:
  Recurrent(RNNKind kind, int64_t units, RNNOptions o);
  std::string class_name() const override { return rnn_kind_name(kind_); }
  int num_inputs() const override { return -1; }  // x, or x and a mask
  Json get_config() const override;

  RNNKind kind() const { return kind_; }
  int64_t units() const { return units_; }
  const RNNOptions& options() const { return o_; }
  // The pass with its final states (Keras' return_state), not recorded for the
  // functional API. mask and initial_state may be undefined / empty.
  RNNOutput call_with_state(const Var& x, const Var& mask, const std::vector<Var>& initial_state, bool training);
  // Creates the parameters of a pass over `input_dim` features through `add`
  // (the layer's own add_weight, or Bidirectional's with a prefix).
  using WeightAdder = std::function<Var(const std::string&, const std::vector<int64_t>&, const Initializer&,
                                        const Regularizer&)>;
  RNNWeights create_weights(int64_t input_dim, const WeightAdder& add) const;
  // The current weights (undefined before the first call).
  RNNWeights rnn_weights() const { return w_; }

 protected:
  void build(const std::vector<TensorType>& input_types) override;
  Var forward(const std::vector<Var>& inputs, bool training) override;

 private:
  RNNKind kind_;
  int64_t units_;
  RNNOptions o_;
  RNNWeights w_;
};

class SimpleRNN : public Recurrent {
 public:
  explicit SimpleRNN(int64_t units, RNNOptions o = {}) : Recurrent(RNNKind::SimpleRNN, units, std::move(o)) {}
};
class LSTM : public Recurrent {
 public:
  explicit LSTM(int64_t units, RNNOptions o = {}) : Recurrent(RNNKind::LSTM, units, std::move(o)) {}
};
class GRU : public Recurrent {
 public:
  explicit GRU(int64_t units, RNNOptions o = {}) : Recurrent(RNNKind::GRU, units, std::move(o)) {}
};

// Runs a recurrent layer forwards and a copy of it backwards (go_backwards
// flipped) and merges the two outputs: "concat" (on the last axis), "sum",
// "mul" or "ave". The backward sequence is reversed back into time order
// before merging. Inputs: x or (x, mask). The wrapped layer serves as the
// configuration; Bidirectional owns both directions' weights, named
// "<name>/forward_<param>" and "<name>/backward_<param>".
class Bidirectional : public Layer {
 public:
  explicit Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode = "concat", std::string name = "");
  std::string class_name() const override { return "Bidirectional"; }
  int num_inputs() const override { return -1; }
  Json get_config() const override;
  const std::shared_ptr<Recurrent>& layer() const { return fwd_; }

 protected:
  void build(const std::vector<TensorType>& input_types) override;
  Var forward(const std::vector<Var>& inputs, bool training) override;

 private:
  std::shared_ptr<Recurrent> fwd_;
  RNNOptions bwd_opts_;
  std::string merge_;
  RNNWeights wf_, wb_;
};

// Registers the recurrent layers' factories (called by the built-in registry).
void register_recurrent_layers();

}  // namespace theon::nn
