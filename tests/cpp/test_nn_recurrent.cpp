// theon::nn recurrent layers: SimpleRNN / LSTM / GRU against loops written
// from the equations, go_backwards, masks, unroll, Bidirectional, gradients
// with verify_grad, save/load and a short training run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <theon/autodiff/verify_grad.h>
#include <theon/nn/recurrent.h>

#include "nn_test_util.h"

using namespace theon;
using nn_test::expect_close;
using nn_test::randn;
using nn_test::vals;

namespace {

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct Ref {
  std::vector<double> seq;  // (B, T, U) outputs in the layer's output order
  std::vector<double> h, c;  // final states (B, U)
};

// The recurrence as plain loops. mask: empty or (B, T). Outputs follow the
// processing order (reversed with go_backwards), masked steps carry the
// state and output it (or zeros with zero_out).
Ref ref_rnn(nn::RNNKind kind, bool reset_after, const std::vector<double>& x, int64_t B, int64_t T, int64_t F,
            int64_t U, const std::vector<double>& W, const std::vector<double>& R, const std::vector<double>& b,
            const std::vector<double>& mask, bool backwards, bool zero_out) {
  int64_t g = nn::rnn_gate_count(kind);
  Ref r;
  r.seq.assign(size_t(B * T * U), 0.0);
  r.h.assign(size_t(B * U), 0.0);
  r.c.assign(size_t(B * U), 0.0);
  bool gru2 = kind == nn::RNNKind::GRU && reset_after;
  for (int64_t n = 0; n < B; ++n) {
    std::vector<double> h(size_t(U), 0.0), c(size_t(U), 0.0);
    for (int64_t s = 0; s < T; ++s) {
      int64_t t = backwards ? T - 1 - s : s;
      std::vector<double> xw(size_t(g * U), 0.0), hr(size_t(g * U), 0.0);
      for (int64_t j = 0; j < g * U; ++j) {
        double a = b.empty() ? 0.0 : b[size_t(j)];
        for (int64_t f = 0; f < F; ++f) a += x[size_t((n * T + t) * F + f)] * W[size_t(f * g * U + j)];
        xw[size_t(j)] = a;
        double q = gru2 && !b.empty() ? b[size_t(g * U + j)] : 0.0;
        for (int64_t k = 0; k < U; ++k) q += h[size_t(k)] * R[size_t(k * g * U + j)];
        hr[size_t(j)] = q;
      }
      std::vector<double> nh(static_cast<size_t>(U), 0.0), nc = c;
      for (int64_t k = 0; k < U; ++k) {
        auto X = [&](int gi) { return xw[size_t(gi * U + k)]; };
        auto H = [&](int gi) { return hr[size_t(gi * U + k)]; };
        if (kind == nn::RNNKind::SimpleRNN) {
          nh[size_t(k)] = std::tanh(X(0) + H(0));
        } else if (kind == nn::RNNKind::LSTM) {
          double i = sigm(X(0) + H(0)), f = sigm(X(1) + H(1)), cc = std::tanh(X(2) + H(2)), o = sigm(X(3) + H(3));
          nc[size_t(k)] = f * c[size_t(k)] + i * cc;
          nh[size_t(k)] = o * std::tanh(nc[size_t(k)]);
        } else {
          double z = sigm(X(0) + H(0)), rr = sigm(X(1) + H(1)), hh;
          if (reset_after) {
            hh = std::tanh(X(2) + rr * H(2));
          } else {
            hh = X(2);
            for (int64_t q = 0; q < U; ++q) {
              double rq = sigm(xw[size_t(U + q)] + hr[size_t(U + q)]);
              hh += rq * h[size_t(q)] * R[size_t(q * g * U + 2 * U + k)];
            }
            hh = std::tanh(hh);
          }
          nh[size_t(k)] = z * h[size_t(k)] + (1 - z) * hh;
        }
      }
      bool keep = mask.empty() || mask[size_t(n * T + t)] != 0;
      if (keep) {
        h = nh;
        c = nc;
      }
      for (int64_t k = 0; k < U; ++k) r.seq[size_t((n * T + s) * U + k)] = keep || !zero_out ? h[size_t(k)] : 0.0;
    }
    for (int64_t k = 0; k < U; ++k) {
      r.h[size_t(n * U + k)] = h[size_t(k)];
      r.c[size_t(n * U + k)] = c[size_t(k)];
    }
  }
  return r;
}

struct Case {
  nn::RNNKind kind = nn::RNNKind::LSTM;
  int64_t B = 3, T = 5, F = 4, U = 3;
  Array x{}, W{}, R{}, b{};
};

Case make_case(nn::RNNKind kind, bool reset_after = true, uint64_t seed = 1) {
  Case c;
  c.kind = kind;
  int64_t g = nn::rnn_gate_count(kind);
  c.x = randn({c.B, c.T, c.F}, seed);
  c.W = randn({c.F, g * c.U}, seed + 1, DType::Float64, 0.5);
  c.R = randn({c.U, g * c.U}, seed + 2, DType::Float64, 0.5);
  if (kind == nn::RNNKind::GRU && reset_after) c.b = randn({2, g * c.U}, seed + 3, DType::Float64, 0.3);
  else c.b = randn({g * c.U}, seed + 3, DType::Float64, 0.3);
  return c;
}

// Runs rnn_forward on constants and returns [output, states...].
std::vector<Array> run(const Case& c, const nn::RNNOptions& o, const Array* mask = nullptr) {
  Var x = nn_test::input_like(c.x);
  std::vector<In> ins{x};
  std::vector<Array> args{c.x};
  Var m;
  if (mask) {
    m = nn_test::input_like(*mask, "mask");
    ins.push_back(m);
    args.push_back(*mask);
  }
  auto r = nn::rnn_forward(c.kind, c.U, o, {constant(c.W), constant(c.R), constant(c.b)}, x, m);
  std::vector<Var> outs{r.output};
  for (auto& s : r.states) outs.push_back(s);
  return (*function(ins, outs))(args);
}

Ref ref_of(const Case& c, const nn::RNNOptions& o, const Array* mask = nullptr) {
  return ref_rnn(c.kind, o.reset_after, vals(c.x), c.B, c.T, c.F, c.U, vals(c.W), vals(c.R), vals(c.b),
                 mask ? vals(*mask) : std::vector<double>{}, o.go_backwards, o.zero_output_for_mask);
}

const nn::RNNKind kKinds[] = {nn::RNNKind::SimpleRNN, nn::RNNKind::LSTM, nn::RNNKind::GRU};

}  // namespace

TEST(NnRecurrent, ForwardMatchesLoopReference) {
  for (auto kind : kKinds) {
    for (bool seqs : {false, true}) {
      for (bool back : {false, true}) {
        for (bool unroll : {false, true}) {
          Case c = make_case(kind);
          nn::RNNOptions o{.return_sequences = seqs, .go_backwards = back, .unroll = unroll};
          auto got = run(c, o);
          Ref want = ref_of(c, o);
          std::string what = std::string(nn::rnn_kind_name(kind)) + (seqs ? " seq" : "") + (back ? " back" : "") +
                             (unroll ? " unroll" : "");
          if (seqs) {
            ASSERT_EQ(got[0].shape(), (Shape{c.B, c.T, c.U})) << what;
            expect_close(vals(got[0]), want.seq, 1e-10, what.c_str());
          } else {
            expect_close(vals(got[0]), want.h, 1e-10, what.c_str());
          }
          expect_close(vals(got[1]), want.h, 1e-10, what.c_str());
          if (kind == nn::RNNKind::LSTM) expect_close(vals(got[2]), want.c, 1e-10, what.c_str());
        }
      }
    }
  }
}

TEST(NnRecurrent, GRUResetBeforeMatchesReference) {
  Case c = make_case(nn::RNNKind::GRU, false);
  nn::RNNOptions o{.return_sequences = true, .reset_after = false};
  auto got = run(c, o);
  expect_close(vals(got[0]), ref_of(c, o).seq, 1e-10);
}

TEST(NnRecurrent, MaskCarriesStateAndOptionallyZeroesOutputs) {
  // Row 0 full length, row 1 three valid steps, row 2 a hole in the middle.
  Array mask = Array::from_vector<double>({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0}, {3, 5});
  for (auto kind : kKinds) {
    for (bool zero : {false, true}) {
      for (bool back : {false, true}) {
        Case c = make_case(kind);
        nn::RNNOptions o{.return_sequences = true, .go_backwards = back, .zero_output_for_mask = zero};
        auto got = run(c, o, &mask);
        Ref want = ref_of(c, o, &mask);
        expect_close(vals(got[0]), want.seq, 1e-10, nn::rnn_kind_name(kind));
        expect_close(vals(got[1]), want.h, 1e-10, nn::rnn_kind_name(kind));
      }
    }
  }
  // A row padded at the end gives the same final state as the shorter sequence alone.
  Case c = make_case(nn::RNNKind::LSTM);
  auto full = run(c, {}, &mask);
  Case c3 = c;
  c3.T = 3;
  std::vector<double> xv = vals(c.x), x3;
  for (int64_t n = 0; n < c.B; ++n)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t f = 0; f < c.F; ++f) x3.push_back(xv[size_t((n * c.T + t) * c.F + f)]);
  c3.x = Array::from_vector<double>(x3, {c.B, 3, c.F});
  auto part = run(c3, {});
  std::vector<double> a = vals(full[0]), b = vals(part[0]);
  for (int64_t k = 0; k < c.U; ++k) EXPECT_NEAR(a[size_t(c.U + k)], b[size_t(c.U + k)], 1e-12);
}

TEST(NnRecurrent, GradientsMatchFiniteDifferences) {
  for (auto kind : kKinds) {
    int64_t g = nn::rnn_gate_count(kind);
    Case c;
    c.kind = kind;
    c.B = 2, c.T = 3, c.F = 2, c.U = 2;
    c.x = randn({2, 3, 2}, 8);
    c.W = randn({2, g * 2}, 9, DType::Float64, 0.5);
    c.R = randn({2, g * 2}, 10, DType::Float64, 0.5);
    c.b = randn(kind == nn::RNNKind::GRU ? std::vector<int64_t>{2, g * 2} : std::vector<int64_t>{g * 2}, 11,
                DType::Float64, 0.3);
    Array mask = Array::from_vector<double>({1, 1, 1, 1, 0, 1}, {2, 3});
    for (bool use_mask : {false, true}) {
      nn::RNNOptions o{.return_sequences = true};
      verify_grad(
          [&](const std::vector<Var>& v) {
            Var m = use_mask ? constant(mask) : Var();
            auto r = nn::rnn_forward(kind, 2, o, {v[1], v[2], v[3]}, v[0], m);
            Var out = r.output;
            for (auto& s : r.states) out = out + expand_dims(s, 1);  // the final states contribute too
            return out;
          },
          {c.x, c.W, c.R, c.b});
    }
  }
}

TEST(NnRecurrent, LayersBuildKerasShapesAndInitializers) {
  nn::set_global_seed(3);
  Var x = tensor(DType::Float32, {-1, 7, 5}, "x");
  auto lstm = std::make_shared<nn::LSTM>(4);
  auto gru = std::make_shared<nn::GRU>(4, nn::RNNOptions{.return_sequences = true});
  auto rnn = std::make_shared<nn::SimpleRNN>(4, nn::RNNOptions{.use_bias = false});
  Var y1 = (*lstm)(x), y2 = (*gru)(x), y3 = (*rnn)(x);
  EXPECT_EQ(y1.type().shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(y2.type().shape, (std::vector<int64_t>{-1, 7, 4}));
  EXPECT_EQ(y3.type().shape, (std::vector<int64_t>{-1, 4}));
  auto w = lstm->rnn_weights();
  EXPECT_EQ(get_value(w.kernel).shape(), (Shape{5, 16}));
  EXPECT_EQ(get_value(w.recurrent_kernel).shape(), (Shape{4, 16}));
  auto bias = vals(get_value(w.bias));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(bias[size_t(j)], j >= 4 && j < 8 ? 1.0 : 0.0);  // unit_forget_bias
  // The recurrent kernel is orthogonal: each (4, 4) gate block of an orthogonal (4, 16) has orthogonal rows overall.
  auto r = vals(get_value(w.recurrent_kernel));
  for (int a = 0; a < 4; ++a)
    for (int b2 = 0; b2 < 4; ++b2) {
      double d = 0;
      for (int j = 0; j < 16; ++j) d += r[size_t(a * 16 + j)] * r[size_t(b2 * 16 + j)];
      EXPECT_NEAR(d, a == b2 ? 1.0 : 0.0, 1e-5);
    }
  EXPECT_EQ(get_value(gru->rnn_weights().bias).shape(), (Shape{2, 12}));
  EXPECT_EQ(rnn->trainable_weights().size(), 2u);
  EXPECT_EQ(lstm->trainable_weights()[0].name(), lstm->name() + "/kernel");
  // Bad inputs are clear errors.
  EXPECT_THROW((*std::make_shared<nn::LSTM>(4))(matrix(DType::Float32, "m")), std::invalid_argument);
  EXPECT_THROW(nn::LSTM(0), std::invalid_argument);
  EXPECT_THROW(nn::GRU(3, nn::RNNOptions{.activation = "nope"}), std::invalid_argument);
  // unroll needs a static number of steps.
  auto unrolled = std::make_shared<nn::SimpleRNN>(2, nn::RNNOptions{.unroll = true});
  EXPECT_THROW((*unrolled)(tensor(DType::Float32, {-1, -1, 5})), std::invalid_argument);
}

TEST(NnRecurrent, LayerWithMaskInputAndReturnState) {
  nn::set_global_seed(4);
  Case c = make_case(nn::RNNKind::LSTM);
  Array mask = Array::from_vector<double>({1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0}, {3, 5});
  auto lstm = std::make_shared<nn::LSTM>(c.U, nn::RNNOptions{.return_sequences = true, .return_state = true});
  Var x = nn_test::input_like(c.x), m = nn_test::input_like(mask, "mask");
  auto r = lstm->call_with_state(x, m, {}, false);
  auto w = lstm->rnn_weights();
  set_value(w.kernel, c.W);
  set_value(w.recurrent_kernel, c.R);
  set_value(w.bias, c.b);
  auto got = (*function({x, m}, {r.output, r.states[0], r.states[1]}))({c.x, mask});
  nn::RNNOptions o{.return_sequences = true};
  Ref want = ref_of(c, o, &mask);
  expect_close(vals(got[0]), want.seq, 1e-10);
  expect_close(vals(got[1]), want.h, 1e-10);
  expect_close(vals(got[2]), want.c, 1e-10);
  // The functional call with the mask as second input matches.
  auto model = std::make_shared<nn::Model>(std::vector<Var>{x, m}, (*lstm)(std::vector<Var>{x, m}));
  expect_close(vals(model->predict({c.x, mask})), want.seq, 1e-10);
}

TEST(NnRecurrent, BidirectionalMergesBothDirections) {
  nn::set_global_seed(5);
  Case c = make_case(nn::RNNKind::GRU);
  Array mask = Array::from_vector<double>({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0}, {3, 5});
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    auto inner = std::make_shared<nn::GRU>(c.U, nn::RNNOptions{.return_sequences = true});
    auto bi = std::make_shared<nn::Bidirectional>(inner, mode);
    Var x = nn_test::input_like(c.x), m = nn_test::input_like(mask, "mask");
    Var y = (*bi)(std::vector<Var>{x, m});
    auto ws = bi->trainable_weights();
    ASSERT_EQ(ws.size(), 6u);
    EXPECT_EQ(ws[0].name(), bi->name() + "/forward_kernel");
    EXPECT_EQ(ws[3].name(), bi->name() + "/backward_kernel");
    Case cb = make_case(nn::RNNKind::GRU, true, 21);
    for (int i = 0; i < 3; ++i) set_value(ws[size_t(i)], i == 0 ? c.W : i == 1 ? c.R : c.b);
    for (int i = 0; i < 3; ++i) set_value(ws[size_t(3 + i)], i == 0 ? cb.W : i == 1 ? cb.R : cb.b);
    Array got = (*function({x, m}, {y}))({c.x, mask})[0];
    nn::RNNOptions fo{.return_sequences = true, .zero_output_for_mask = true};
    Ref f = ref_of(c, fo, &mask);
    cb.x = c.x;
    nn::RNNOptions bo = fo;
    bo.go_backwards = true;
    Ref b = ref_of(cb, bo, &mask);
    std::vector<double> want;
    int64_t U = c.U, T = c.T;
    for (int64_t n = 0; n < c.B; ++n)
      for (int64_t t = 0; t < T; ++t) {
        auto fv = [&](int64_t k) { return f.seq[size_t((n * T + t) * U + k)]; };
        auto bv = [&](int64_t k) { return b.seq[size_t((n * T + (T - 1 - t)) * U + k)]; };  // back in time order
        std::string md = mode;
        if (md == "concat") {
          for (int64_t k = 0; k < U; ++k) want.push_back(fv(k));
          for (int64_t k = 0; k < U; ++k) want.push_back(bv(k));
        } else {
          for (int64_t k = 0; k < U; ++k)
            want.push_back(md == "sum" ? fv(k) + bv(k) : md == "mul" ? fv(k) * bv(k) : 0.5 * (fv(k) + bv(k)));
        }
      }
    expect_close(vals(got), want, 1e-10, mode);
  }
  EXPECT_THROW(nn::Bidirectional(std::make_shared<nn::LSTM>(2), "max"), std::invalid_argument);
}

TEST(NnRecurrent, SavedModelWithRecurrentLayersReloads) {
  nn::set_global_seed(6);
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{
      std::make_shared<nn::Embedding>(10, 6),
      std::make_shared<nn::Bidirectional>(std::make_shared<nn::GRU>(5, nn::RNNOptions{.return_sequences = true})),
      std::make_shared<nn::LSTM>(4), std::make_shared<nn::Dense>(3)});
  model->build({7}, DType::Int64);
  std::vector<int64_t> xi;
  for (int i = 0; i < 4 * 7; ++i) xi.push_back((i * 7 + 3) % 10);
  Array x = Array::from_vector<int64_t>(xi, {4, 7});
  std::string path = ::testing::TempDir() + "rnn_model.theon";
  model->save(path, false);
  auto loaded = nn::load_model(path);
  EXPECT_EQ(loaded->layers()[1]->class_name(), "Bidirectional");
  EXPECT_EQ(loaded->layers()[2]->class_name(), "LSTM");
  EXPECT_EQ(vals(loaded->predict(x)), vals(model->predict(x)));
  std::remove(path.c_str());
}

TEST(NnRecurrent, TrainingLowersTheLoss) {
  // Predict the sum of a sequence's signs: needs memory across steps.
  nn::set_global_seed(8);
  int64_t N = 64, T = 6;
  Array x = randn({N, T, 1}, 30, DType::Float32);
  std::vector<double> xv = vals(x), yv;
  for (int64_t n = 0; n < N; ++n) {
    double s = 0;
    for (int64_t t = 0; t < T; ++t) s += xv[size_t(n * T + t)] > 0 ? 1 : 0;
    yv.push_back(s / T);
  }
  Array y = Array::from_vector<double>(yv, {N, 1}).astype(DType::Float32);
  auto model = std::make_shared<nn::Sequential>(
      std::vector<nn::LayerPtr>{std::make_shared<nn::LSTM>(8), std::make_shared<nn::Dense>(1)});
  model->compile(nn::adam(2e-2), "mse");
  auto h = model->fit(x, y, nn::FitOptions{.batch_size = 16, .epochs = 15, .verbose = 0});
  auto& loss = h.history["loss"];
  EXPECT_LT(loss.back(), 0.5 * loss.front());
}
