// The recurrent pass (rnn_forward) and the SimpleRNN / LSTM / GRU layers.
#include <stdexcept>

#include "layers_internal.h"
#include "theon/graph/shared.h"
#include "theon/nn/activations.h"
#include "theon/nn/recurrent.h"
#include "theon/ops/blas.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/scan.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon::nn {

int rnn_gate_count(RNNKind kind) { return kind == RNNKind::SimpleRNN ? 1 : kind == RNNKind::LSTM ? 4 : 3; }
const char* rnn_kind_name(RNNKind kind) {
  return kind == RNNKind::SimpleRNN ? "SimpleRNN" : kind == RNNKind::LSTM ? "LSTM" : "GRU";
}

namespace {

// One step of the cell, one tensor per gate (slicing one (batch, g*u) product
// inside the loop makes the backward loop scatter into zeros per gate and per
// step; separate (u, u) products cost less overall). xg: the gates' input
// projections (batch, u) with the input bias; st: h (and c); rk: the gates'
// recurrent kernels (u, u); rb: GRU's recurrent biases (empty otherwise).
// Returns the new states, h first.
std::vector<Var> cell_step(RNNKind kind, const RNNOptions& o, const std::vector<Var>& xg, const std::vector<Var>& st,
                           const std::vector<Var>& rk, const std::vector<Var>& rb) {
  const Var& h = st[0];
  auto act = [&](const Var& v) { return activation(o.activation, v); };
  auto ract = [&](const Var& v) { return activation(o.recurrent_activation, v); };
  auto rec = [&](int k) { return rb.empty() ? dot(h, rk[size_t(k)]) : dot(h, rk[size_t(k)]) + rb[size_t(k)]; };
  switch (kind) {
    case RNNKind::SimpleRNN:
      return {act(xg[0] + rec(0))};
    case RNNKind::LSTM: {
      Var i = ract(xg[0] + rec(0)), f = ract(xg[1] + rec(1)), g = act(xg[2] + rec(2)), og = ract(xg[3] + rec(3));
      Var c = f * st[1] + i * g;
      return {og * act(c), c};
    }
    case RNNKind::GRU: {
      Var z = ract(xg[0] + rec(0)), r = ract(xg[1] + rec(1));
      Var hh = o.reset_after ? act(xg[2] + r * rec(2)) : act(xg[2] + dot(r * h, rk[2]));
      return {z * h + (1.0 - z) * hh};
    }
  }
  return {};
}

std::string rnn_prefix(RNNKind kind) { return std::string("[") + rnn_kind_name(kind) + "]"; }

}  // namespace

RNNOutput rnn_forward(RNNKind kind, int64_t u, const RNNOptions& o, const RNNWeights& w, const Var& x, const Var& mask,
                      const std::vector<Var>& initial_state) {
  const std::string pre = rnn_prefix(kind);
  if (x.ndim() != 3)
    throw std::invalid_argument(pre + " expected an input (batch, time, features), got " + x.type().str());
  if (!is_float(x.dtype())) throw std::invalid_argument(pre + " expected a float input, got " + x.type().str());
  DType dt = x.dtype();
  int n_states = kind == RNNKind::LSTM ? 2 : 1;
  if (!initial_state.empty() && int(initial_state.size()) != n_states)
    throw std::invalid_argument(pre + " expected " + std::to_string(n_states) + " initial state(s), got " +
                                std::to_string(initial_state.size()));
  if (mask.defined() && mask.ndim() != 2)
    throw std::invalid_argument(pre + " expected a mask (batch, time), got " + mask.type().str());

  // Biases: GRU with reset_after has an input row and a recurrent row.
  Var in_bias, rec_bias;
  if (w.bias.defined()) {
    if (kind == RNNKind::GRU && o.reset_after) {
      in_bias = subtensor(w.bias, {IndexItem::integer(int64_t(0))});
      rec_bias = subtensor(w.bias, {IndexItem::integer(int64_t(1))});
    } else {
      in_bias = w.bias;
    }
  }
  // The input projection of every step at once, time-major (time, batch, g*u):
  // the loop walks the leading axis, and the bias gradient then sums a contiguous array.
  Var xw = dot(dimshuffle(x, {1, 0, 2}), cast(w.kernel, dt));
  if (in_bias.defined()) xw = xw + cast(in_bias, dt);
  Var m;  // (time, batch, 1) of 0/1 in x's dtype
  if (mask.defined()) m = dimshuffle(cast(neq(mask, constant(0.0, mask.dtype())), dt), {1, 0, -1});

  std::vector<Var> init = initial_state;
  if (init.empty()) {
    Var z = zeros(std::vector<Var>{shape_i(x, 0), constant(double(u), DType::Int64)}, dt);
    init.assign(size_t(n_states), z);
  }
  for (auto& s : init) s = cast(s, dt);
  int g = rnn_gate_count(kind);
  std::vector<Var> xgs, rks, rbs;  // per gate: (time, batch, u) inputs, (u, u) kernels, recurrent biases
  Var rk = cast(w.recurrent_kernel, dt);
  if (g == 1) {
    xgs = {xw};
    rks = {rk};
  } else {
    // split, not g slices: the gradient of a split is one concatenation, where
    // slices would each scatter into a zero tensor of the whole size.
    std::vector<int64_t> sizes(size_t(g), u);
    xgs = split(xw, sizes, 2);
    rks = split(rk, sizes, 1);
    if (rec_bias.defined()) rbs = split(cast(rec_bias, dt), sizes, 0);
  }

  // A step with the mask: masked rows keep their previous state.
  auto step = [&](const std::vector<Var>& xg, const Var& m_t, const std::vector<Var>& st, const std::vector<Var>& rk_,
                  const std::vector<Var>& rb_) {
    std::vector<Var> nst = cell_step(kind, o, xg, st, rk_, rb_);
    if (m_t.defined())
      for (size_t k = 0; k < nst.size(); ++k) nst[k] = st[k] + m_t * (nst[k] - st[k]);
    return nst;
  };

  std::vector<Var> traces;  // (time, batch, u) of h (and c)
  if (o.unroll) {
    int64_t T = x.type().shape[1];
    if (T < 0) throw std::invalid_argument(pre + " unroll=true needs a static time axis, got " + x.type().str());
    std::vector<Var> st = init, hs;
    for (int64_t i = 0; i < T; ++i) {
      int64_t t = o.go_backwards ? T - 1 - i : i;
      Var m_t = m.defined() ? subtensor(m, {IndexItem::integer(t)}) : Var();
      std::vector<Var> xg;
      for (const auto& s : xgs) xg.push_back(subtensor(s, {IndexItem::integer(t)}));
      st = step(xg, m_t, st, rks, rbs);
      hs.push_back(expand_dims(st[0], 0));
    }
    traces.push_back(hs.size() == 1 ? hs[0] : concatenate(hs, 0));
    for (size_t k = 1; k < st.size(); ++k) traces.push_back(expand_dims(st[k], 0));  // only the last is read
  } else {
    std::vector<ScanSequence> seqs;
    for (const auto& s : xgs) seqs.push_back(ScanSequence{s});
    if (m.defined()) seqs.push_back(ScanSequence{m});
    std::vector<ScanOutput> outs;
    for (const auto& s : init) outs.push_back(ScanOutput{s});
    std::vector<Var> nonseq = rks;
    nonseq.insert(nonseq.end(), rbs.begin(), rbs.end());
    bool has_m = m.defined();
    size_t n_rb = rbs.size();
    auto r = scan(
        [&](const std::vector<Var>& a) {
          auto take_n = [&](size_t& i, size_t n) {
            std::vector<Var> v(a.begin() + long(i), a.begin() + long(i + n));
            i += n;
            return v;
          };
          size_t i = 0;
          std::vector<Var> xg = take_n(i, size_t(g));
          Var m_t = has_m ? a[i++] : Var();
          std::vector<Var> st = take_n(i, size_t(n_states));
          std::vector<Var> rk_ = take_n(i, size_t(g));
          std::vector<Var> rb_ = take_n(i, n_rb);
          return ScanStepResult{step(xg, m_t, st, rk_, rb_)};
        },
        seqs, outs, nonseq,
        ScanOptions{.go_backwards = o.go_backwards, .name = std::string(rnn_kind_name(kind))});
    traces = r.outputs;
  }

  RNNOutput res;
  for (const auto& tr : traces) res.states.push_back(subtensor(tr, {IndexItem::integer(int64_t(-1))}));
  if (o.return_sequences) {
    Var seq = traces[0];
    if (m.defined() && o.zero_output_for_mask) {
      // The mask in processing order (scan walks it backwards with go_backwards).
      Var mp = o.go_backwards ? subtensor(m, {IndexItem::slice(std::nullopt, std::nullopt, int64_t(-1))}) : m;
      seq = seq * mp;
    }
    res.output = dimshuffle(seq, {1, 0, 2});
    // The loop's trace loses the static number of steps; layers after this one may need it.
    int64_t T = x.type().shape[1];
    if (T >= 0 && res.output.type().shape[1] < 0)
      res.output = reshape(res.output, std::vector<Var>{shape_i(res.output, 0), constant(double(T), DType::Int64),
                                                       constant(double(u), DType::Int64)});
  } else {
    res.output = res.states[0];
  }
  return res;
}

// ---- the layers ----
Recurrent::Recurrent(RNNKind kind, int64_t units, RNNOptions o)
    : Layer(o.name), kind_(kind), units_(units), o_(std::move(o)) {
  if (units <= 0)
    throw std::invalid_argument(rnn_prefix(kind) + " units must be positive, got " + std::to_string(units));
  check_activation(o_.activation);
  check_activation(o_.recurrent_activation);
}

RNNWeights Recurrent::create_weights(int64_t in, const WeightAdder& add) const {
  int64_t g = rnn_gate_count(kind_);
  RNNWeights w;
  w.kernel = add("kernel", {in, g * units_}, o_.kernel_initializer, o_.kernel_regularizer);
  w.recurrent_kernel =
      add("recurrent_kernel", {units_, g * units_}, o_.recurrent_initializer, o_.recurrent_regularizer);
  if (o_.use_bias) {
    std::vector<int64_t> bshape{g * units_};
    if (kind_ == RNNKind::GRU && o_.reset_after) bshape = {2, g * units_};
    w.bias = add("bias", bshape, o_.bias_initializer, o_.bias_regularizer);
    if (kind_ == RNNKind::LSTM && o_.unit_forget_bias) {
      Array b = get_value(w.bias);
      std::vector<double> v = b.to_double_vector();
      for (int64_t j = units_; j < 2 * units_; ++j) v[size_t(j)] = 1.0;
      set_value(w.bias, Array::from_vector<double>(v, b.shape()).astype(b.dtype()));
    }
  }
  return w;
}

void detail::check_recurrent_inputs(const std::string& who, const std::vector<TensorType>& t) {
  if (t.size() < 1 || t.size() > 2)
    throw std::invalid_argument(who + " expected an input and optionally a mask, got " + std::to_string(t.size()) +
                                " inputs");
  if (t[0].ndim() != 3)
    throw std::invalid_argument(who + " expected an input (batch, time, features), got " + t[0].str());
}

void Recurrent::build(const std::vector<TensorType>& t) {
  detail::check_recurrent_inputs(error_prefix(), t);
  int64_t in = static_dim(t[0], 2, "feature (last)");
  w_ = create_weights(in, [this](const std::string& n, const std::vector<int64_t>& s, const Initializer& i,
                                 const Regularizer& r) { return add_weight(n, s, i, true, r); });
}

RNNOutput Recurrent::call_with_state(const Var& x, const Var& mask, const std::vector<Var>& initial_state,
                                     bool training) {
  std::vector<Var> in{x};
  if (mask.defined()) in.push_back(mask);
  call(in, training);  // builds the weights and checks the inputs
  RNNWeights w{param(w_.kernel), param(w_.recurrent_kernel), w_.bias.defined() ? param(w_.bias) : Var()};
  return rnn_forward(kind_, units_, o_, w, x, mask, initial_state);
}

Var Recurrent::forward(const std::vector<Var>& in, bool) {
  if (in.size() > 2)
    throw std::invalid_argument(error_prefix() + " expected an input and optionally a mask, got " +
                                std::to_string(in.size()) + " inputs");
  RNNWeights w{param(w_.kernel), param(w_.recurrent_kernel), w_.bias.defined() ? param(w_.bias) : Var()};
  try {
    return rnn_forward(kind_, units_, o_, w, in[0], in.size() > 1 ? in[1] : Var()).output;
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(error_prefix() + " " + e.what());
  }
}

Json Recurrent::get_config() const {
  Json c = Layer::get_config()
               .set("units", units_)
               .set("activation", o_.activation)
               .set("use_bias", o_.use_bias)
               .set("return_sequences", o_.return_sequences)
               .set("return_state", o_.return_state)
               .set("go_backwards", o_.go_backwards)
               .set("unroll", o_.unroll)
               .set("zero_output_for_mask", o_.zero_output_for_mask)
               .set("kernel_initializer", o_.kernel_initializer.to_json())
               .set("recurrent_initializer", o_.recurrent_initializer.to_json())
               .set("bias_initializer", o_.bias_initializer.to_json())
               .set("kernel_regularizer", o_.kernel_regularizer.to_json())
               .set("recurrent_regularizer", o_.recurrent_regularizer.to_json())
               .set("bias_regularizer", o_.bias_regularizer.to_json());
  if (kind_ != RNNKind::SimpleRNN) c.set("recurrent_activation", o_.recurrent_activation);
  if (kind_ == RNNKind::LSTM) c.set("unit_forget_bias", o_.unit_forget_bias);
  if (kind_ == RNNKind::GRU) c.set("reset_after", o_.reset_after);
  return c;
}

namespace {
RNNOptions rnn_options_of(const Json& c) {
  RNNOptions o;
  o.activation = c.get("activation", "tanh").as_string("activation");
  o.recurrent_activation = c.get("recurrent_activation", "sigmoid").as_string("recurrent_activation");
  o.use_bias = c.get("use_bias", true).as_bool("use_bias");
  o.return_sequences = c.get("return_sequences", false).as_bool("return_sequences");
  o.return_state = c.get("return_state", false).as_bool("return_state");
  o.go_backwards = c.get("go_backwards", false).as_bool("go_backwards");
  o.unroll = c.get("unroll", false).as_bool("unroll");
  o.zero_output_for_mask = c.get("zero_output_for_mask", false).as_bool("zero_output_for_mask");
  o.unit_forget_bias = c.get("unit_forget_bias", true).as_bool("unit_forget_bias");
  o.reset_after = c.get("reset_after", true).as_bool("reset_after");
  o.kernel_initializer = Initializer::from_json(c.get("kernel_initializer", "glorot_uniform"));
  o.recurrent_initializer = Initializer::from_json(c.get("recurrent_initializer", "orthogonal"));
  o.bias_initializer = Initializer::from_json(c.get("bias_initializer", "zeros"));
  o.kernel_regularizer = Regularizer::from_json(c.get("kernel_regularizer", Json()));
  o.recurrent_regularizer = Regularizer::from_json(c.get("recurrent_regularizer", Json()));
  o.bias_regularizer = Regularizer::from_json(c.get("bias_regularizer", Json()));
  o.name = cfg_name(c);
  return o;
}

std::shared_ptr<Recurrent> recurrent_from_config(const std::string& cls, const Json& c) {
  RNNKind k = cls == "LSTM" ? RNNKind::LSTM : cls == "GRU" ? RNNKind::GRU : RNNKind::SimpleRNN;
  if (cls != "LSTM" && cls != "GRU" && cls != "SimpleRNN")
    throw std::invalid_argument("[Bidirectional] expected a SimpleRNN, LSTM or GRU layer, got '" + cls + "'");
  int64_t units = c.at("units").as_int("units");
  if (k == RNNKind::LSTM) return std::make_shared<LSTM>(units, rnn_options_of(c));
  if (k == RNNKind::GRU) return std::make_shared<GRU>(units, rnn_options_of(c));
  return std::make_shared<SimpleRNN>(units, rnn_options_of(c));
}
}  // namespace

void register_recurrent_layers() {
  for (const char* name : {"SimpleRNN", "LSTM", "GRU"})
    add_layer_factory(name, [cls = std::string(name)](const Json& c) -> LayerPtr {
      return recurrent_from_config(cls, c);
    });
  add_layer_factory("Bidirectional", [](const Json& c) -> LayerPtr {
    const Json& l = c.at("layer");
    auto inner = recurrent_from_config(l.at("class_name").as_string("class_name"), l.at("config"));
    return std::make_shared<Bidirectional>(inner, c.get("merge_mode", "concat").as_string("merge_mode"), cfg_name(c));
  });
}

}  // namespace theon::nn
