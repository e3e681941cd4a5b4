// theon/ops/conv.h — 2-D convolution with Theano's conv2d semantics.
//
// Inputs are NCHW batches and filters are (out_channels, in_channels/groups,
// rows, cols). filter_flip=true is a true convolution (kernels flipped),
// false a cross-correlation. border_mode 'valid' pads nothing, 'full' pads
// (dilated kernel - 1), 'half' pads (dilated kernel / 2), explicit pads are
// per side. Static shapes — from the variables' types and from the
// input_shape / filter_shape hints — are checked when the graph is built.
// float32 (and float16 / bfloat16, converted to float32) runs on oneDNN's
// threaded convolution kernels; float64 and integer inputs, and calls made
// inside a parallel_for task, run the reference kernel (im2col and a BLAS
// matrix product, one group at a time).
#pragma once
#include <array>

#include "theon/graph/node.h"

namespace theon {

enum class BorderMode : uint8_t { Valid, Full, Half, Explicit };

struct ConvParams {
  BorderMode border_mode = BorderMode::Valid;
  std::array<int64_t, 2> pad{0, 0};  // used when border_mode is Explicit
  std::array<int64_t, 2> subsample{1, 1};
  bool filter_flip = true;
  std::array<int64_t, 2> dilation{1, 1};
  int64_t num_groups = 1;
  // Optional shape hints (Theano's input_shape / filter_shape): empty, or 4
  // entries with -1 where unknown.
  std::vector<int64_t> input_shape{};
  std::vector<int64_t> filter_shape{};
};

// Parses "valid" / "full" / "half" into params.border_mode; throws
// std::invalid_argument naming the string otherwise.
void set_border_mode(ConvParams& params, const std::string& mode);
// An explicit border (pad rows, pad cols); negative pads are rejected.
void set_border_mode(ConvParams& params, int64_t pad_rows, int64_t pad_cols);

class Conv2d : public Op {
 public:
  explicit Conv2d(ConvParams p);
  std::string name() const override { return "Conv2d"; }
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  // Gradients through Conv2dGradInputs and Conv2dGradWeights with the same parameters.
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  const ConvParams& params() const { return p_; }
  // Padding of one spatial dim (0 rows, 1 cols) for a kernel of `k` taps.
  int64_t pad_for(int dim, int64_t k) const;
  // Output size of one spatial dim, or -1 when unknown; throws when the
  // dilated kernel does not fit the padded input.
  int64_t out_size(int dim, int64_t in, int64_t k) const;

 private:
  ConvParams p_;
};

// The gradients of Conv2d (Theano's AbstractConv2d_gradInputs and
// AbstractConv2d_gradWeights), for the same ConvParams. Both are linear in each
// argument and are exact adjoints of the forward op, so their own gradients
// are Conv2d and the other gradient op again (second order works).
//
// Conv2dGradInputs(filters, output_grad, input_rows_cols): the gradient w.r.t.
// the input; the int64 vector input_rows_cols = (rows, cols) of the forward
// input is needed because with strides several input sizes give one output size.
class Conv2dGradInputs : public Op {
 public:
  explicit Conv2dGradInputs(ConvParams p);
  std::string name() const override { return "Conv2dGradInputs"; }
  std::string props() const override { return fwd_.props(); }
  THEON_OP_OVERRIDES
  const ConvParams& params() const { return fwd_.params(); }

 private:
  Conv2d fwd_;  // the forward op, for its padding and size rules
};

// Conv2dGradWeights(input, output_grad, filter_rows_cols): the gradient w.r.t.
// the filters, whose (rows, cols) come as an int64 vector.
class Conv2dGradWeights : public Op {
 public:
  explicit Conv2dGradWeights(ConvParams p);
  std::string name() const override { return "Conv2dGradWeights"; }
  std::string props() const override { return fwd_.props(); }
  THEON_OP_OVERRIDES
  const ConvParams& params() const { return fwd_.params(); }

 private:
  Conv2d fwd_;
};

// Builders of the gradient ops; rows_cols is an int64 vector of length 2.
Var conv2d_grad_inputs(const Var& filters, const Var& output_grad, const Var& input_rows_cols,
                       const ConvParams& params = {});
Var conv2d_grad_weights(const Var& input, const Var& output_grad, const Var& filter_rows_cols,
                        const ConvParams& params = {});

// Whether float32 conv2d / pool_2d and their gradients run on oneDNN (the
// default; the environment variable THEON_DNNL=0 starts with it off). Off,
// every dtype runs theon's reference kernels, which the tests compare against.
bool dnnl_enabled();
void set_dnnl_enabled(bool on);
// How many convolution / pooling primitives oneDNN has run in this process
// (tests check that a case really took the oneDNN path).
uint64_t dnnl_run_count();

// conv2d(input, filters) with Theano's AbstractConv2d semantics.
Var conv2d(const Var& input, const Var& filters, const ConvParams& params = {});

}  // namespace theon
