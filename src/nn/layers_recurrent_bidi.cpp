// Bidirectional: a recurrent layer run forwards and backwards, outputs merged.
#include <stdexcept>

#include "theon/nn/recurrent.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/subtensor.h"

namespace theon::nn {

Bidirectional::Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode, std::string name)
    : Layer(std::move(name)), fwd_(std::move(layer)), merge_(std::move(merge_mode)) {
  if (!fwd_) throw std::invalid_argument("[Bidirectional] expected a recurrent layer, got none");
  if (merge_ != "concat" && merge_ != "sum" && merge_ != "mul" && merge_ != "ave")
    throw std::invalid_argument("[Bidirectional] merge_mode must be 'concat', 'sum', 'mul' or 'ave', got '" +
                                merge_ + "'");
  if (fwd_->options().return_state)
    throw std::invalid_argument("[Bidirectional] return_state of the wrapped layer is not supported");
  bwd_opts_ = fwd_->options();
  bwd_opts_.go_backwards = !bwd_opts_.go_backwards;
}

void Bidirectional::build(const std::vector<TensorType>& t) {
  detail::check_recurrent_inputs(error_prefix(), t);
  int64_t in = static_dim(t[0], 2, "feature (last)");
  auto adder = [this](const std::string& prefix) {
    return [this, prefix](const std::string& n, const std::vector<int64_t>& s, const Initializer& i,
                          const Regularizer& r) { return add_weight(prefix + n, s, i, true, r); };
  };
  wf_ = fwd_->create_weights(in, adder("forward_"));
  wb_ = fwd_->create_weights(in, adder("backward_"));
}

Var Bidirectional::forward(const std::vector<Var>& in, bool) {
  if (in.size() > 2)
    throw std::invalid_argument(error_prefix() + " expected an input and optionally a mask, got " +
                                std::to_string(in.size()) + " inputs");
  Var mask = in.size() > 1 ? in[1] : Var();
  auto params = [](const RNNWeights& w) {
    return RNNWeights{param(w.kernel), param(w.recurrent_kernel), w.bias.defined() ? param(w.bias) : Var()};
  };
  // Masked steps output zeros in both directions, so the merged output is zero there too.
  RNNOptions fo = fwd_->options(), bo = bwd_opts_;
  fo.zero_output_for_mask = bo.zero_output_for_mask = true;
  Var yf, yb;
  try {
    yf = rnn_forward(fwd_->kind(), fwd_->units(), fo, params(wf_), in[0], mask).output;
    yb = rnn_forward(fwd_->kind(), fwd_->units(), bo, params(wb_), in[0], mask).output;
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(error_prefix() + " " + e.what());
  }
  // The backward pass's sequence comes out in its processing order: put it back in time order.
  if (fo.return_sequences)
    yb = subtensor(yb, {IndexItem::slice(), IndexItem::slice(std::nullopt, std::nullopt, int64_t(-1))});
  if (merge_ == "concat") return concatenate({yf, yb}, yf.ndim() - 1);
  if (merge_ == "sum") return yf + yb;
  if (merge_ == "mul") return yf * yb;
  return (yf + yb) * 0.5;
}

Json Bidirectional::get_config() const {
  return Layer::get_config().set("merge_mode", merge_).set("layer", layer_to_json(*fwd_));
}

}  // namespace theon::nn
