// scan: each feature against an explicit loop over std::vector, gradients
// with verify_grad, truncated BPTT against a hand-unrolled graph, the scan
// rewrites, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <theon/autodiff/verify_grad.h>
#include <theon/ops/random.h>
#include <theon/ops/scan.h>
#include <theon/theon.h>

using namespace theon;

namespace {

Array f64(std::vector<double> v, Shape s = {}) { return Array::from_vector<double>(v, s); }
std::vector<double> vals(const Array& a) { return a.to_double_vector(); }

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

std::vector<double> seq_data(int n, int d, double scale = 0.1) {
  std::vector<double> v;
  for (int i = 0; i < n * d; ++i) v.push_back(scale * std::sin(1.0 + i * 0.7));
  return v;
}

}  // namespace

TEST(Scan, SimpleRecurrenceMatchesLoop) {
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0"), w = vector(DType::Float64, "w");
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{tanh(a[1] * a[2] + a[0])}}; },
                {ScanSequence{x}}, {ScanOutput{h0}}, {w});
  auto f = function({x, h0, w}, {r.outputs[0]});
  std::vector<double> xs = seq_data(6, 3), hv{0.1, -0.2, 0.3}, wv{0.5, 1.5, -0.7};
  Array out = (*f)({f64(xs, {6, 3}), f64(hv), f64(wv)})[0];
  ASSERT_EQ(out.shape(), (Shape{6, 3}));
  std::vector<double> want;
  for (int t = 0; t < 6; ++t) {
    for (int i = 0; i < 3; ++i) hv[size_t(i)] = std::tanh(hv[size_t(i)] * wv[size_t(i)] + xs[size_t(t * 3 + i)]);
    want.insert(want.end(), hv.begin(), hv.end());
  }
  expect_near(vals(out), want);
}

TEST(Scan, SequenceTapsNegativeAndPositive) {
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  // out_t = x[t-2] + 10 x[t] + 100 y[t+1]
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0] + 10.0 * a[1] + 100.0 * a[2]}}; },
                {ScanSequence{x, {-2, 0}}, ScanSequence{y, {1}}}, {ScanOutput{}});
  auto f = function({x, y}, {r.outputs[0]});
  std::vector<double> xv{1, 2, 3, 4, 5, 6, 7}, yv{1, 2, 3, 4, 5};
  Array out = (*f)({f64(xv), f64(yv)})[0];
  // x allows 5 steps (7 - 2), y allows 4 (5 - 1).
  std::vector<double> want;
  for (int t = 0; t < 4; ++t) want.push_back(xv[size_t(t)] + 10 * xv[size_t(t + 2)] + 100 * yv[size_t(t + 1)]);
  expect_near(vals(out), want);
}

TEST(Scan, OutputTapsReadPastValues) {
  Var init = vector(DType::Float64, "init");
  ScanOptions o;
  o.n_steps = constant(6.0, DType::Int64);
  // Taps listed out of order: the step receives them in the order given.
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0] + 0.5 * a[1]}}; }, {},
                {ScanOutput{init, {-1, -3}}}, {}, o);
  auto f = function({init}, {r.outputs[0]});
  std::vector<double> buf{1.0, 2.0, 3.0};  // y[-3], y[-2], y[-1]
  Array out = (*f)({f64(buf)})[0];
  for (int t = 0; t < 6; ++t) buf.push_back(buf[buf.size() - 1] + 0.5 * buf[buf.size() - 3]);
  expect_near(vals(out), std::vector<double>(buf.begin() + 3, buf.end()));
}

TEST(Scan, SeveralOutputsWithAndWithoutRecurrence) {
  Var x = vector(DType::Float64, "x"), a0 = scalar(DType::Float64, "a0");
  auto r = scan(
      [](const std::vector<Var>& a) {
        Var acc = a[1] + a[0];
        return ScanStepResult{{acc * a[0], acc}};
      },
      {ScanSequence{x}}, {ScanOutput{}, ScanOutput{a0}});
  auto f = function({x, a0}, {r.outputs[0], r.outputs[1]});
  std::vector<double> xv{1, 2, 3, 4};
  auto out = (*f)({f64(xv), Array::scalar(DType::Float64, 0.5)});
  std::vector<double> w0, w1;
  double acc = 0.5;
  for (double v : xv) {
    acc += v;
    w0.push_back(acc * v);
    w1.push_back(acc);
  }
  expect_near(vals(out[0]), w0);
  expect_near(vals(out[1]), w1);
}

TEST(Scan, UntilStopsAfterTheConditionHolds) {
  Var x0 = scalar(DType::Float64, "x0");
  ScanOptions o;
  o.n_steps = constant(1000.0, DType::Int64);
  auto r = scan(
      [](const std::vector<Var>& a) {
        Var nx = a[0] * 2.0;
        return ScanStepResult{{nx}, {}, gt(nx, constant(50.0, DType::Float64))};
      },
      {}, {ScanOutput{x0}}, {}, o);
  auto f = function({x0}, {r.outputs[0]});
  Array out = (*f)({Array::scalar(DType::Float64, 1.5)})[0];
  std::vector<double> want;
  for (double v = 1.5;;) {
    v *= 2;
    want.push_back(v);
    if (v > 50) break;
  }
  expect_near(vals(out), want);
}

TEST(Scan, NStepsWithoutSequencesAndGoBackwards) {
  Var x = vector(DType::Float64, "x"), s0 = scalar(DType::Float64, "s0");
  ScanOptions back;
  back.go_backwards = true;
  // Horner's rule over reversed coefficients.
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[1] * 2.0 + a[0]}}; }, {ScanSequence{x}},
                {ScanOutput{s0}}, {}, back);
  auto f = function({x, s0}, {r.outputs[0]});
  std::vector<double> xv{1, 0, 3, 2};
  Array out = (*f)({f64(xv), Array::scalar(DType::Float64, 0)})[0];
  std::vector<double> want;
  double s = 0;
  for (int t = 3; t >= 0; --t) want.push_back(s = s * 2 + xv[size_t(t)]);
  expect_near(vals(out), want);

  Var n = scalar(DType::Int64, "n");
  ScanOptions o;
  o.n_steps = n;
  auto p = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0] * 3.0}}; }, {}, {ScanOutput{s0}}, {}, o);
  auto g = function({n, s0}, {p.outputs[0]});
  expect_near(vals((*g)({Array::scalar(DType::Int64, 4), Array::scalar(DType::Float64, 1)})[0]), {3, 9, 27, 81});
  EXPECT_EQ((*g)({Array::scalar(DType::Int64, 0), Array::scalar(DType::Float64, 1)})[0].shape(), (Shape{0}));
}

TEST(Scan, SharedVariablesReadAndUpdated) {
  Var w = shared(f64({2.0}), "w");
  Var count = shared(Array::scalar(DType::Float64, 10.0), "count");
  Var x = vector(DType::Float64, "x");
  // w is read (implicit non-sequence); count is updated by the step.
  auto r = scan(
      [&](const std::vector<Var>& a) {
        return ScanStepResult{{a[0] * sum(w) + count}, {{count, count + 1.0}}};
      },
      {ScanSequence{x}}, {ScanOutput{}});
  ASSERT_EQ(r.updates.size(), 1u);
  FunctionOptions fo;
  fo.updates = r.updates;
  auto f = function({x}, {r.outputs[0]}, fo);
  Array out = (*f)({f64({1, 2, 3})})[0];
  expect_near(vals(out), {1 * 2 + 10.0, 2 * 2 + 11.0, 3 * 2 + 12.0});
  EXPECT_DOUBLE_EQ(get_value(count).item_double(), 13.0);
  out = (*f)({f64({1}, {1})})[0];
  expect_near(vals(out), {2 + 13.0});
  EXPECT_DOUBLE_EQ(get_value(count).item_double(), 14.0);
}

TEST(Scan, RandomDrawsAdvanceEveryStep) {
  RandomStreams rs(7);
  Var n = scalar(DType::Int64, "n");
  ScanOptions o;
  o.n_steps = n;
  auto r = scan([&](const std::vector<Var>&) { return ScanStepResult{{rs.uniform({3})}}; }, {}, {ScanOutput{}}, {}, o);
  ASSERT_EQ(r.updates.size(), 1u);
  FunctionOptions fo;
  fo.updates = r.updates;
  auto f = function({n}, {r.outputs[0]}, fo);
  Array first = (*f)({Array::scalar(DType::Int64, 4)})[0];
  Array second = (*f)({Array::scalar(DType::Int64, 2)})[0];
  // The reference: the same stream drawn by a plain function, once per call.
  RandomStreams ref(7);
  auto g = function({}, {ref.uniform({3})});
  std::vector<double> want;
  for (int t = 0; t < 6; ++t) {
    auto v = vals((*g)({})[0]);
    want.insert(want.end(), v.begin(), v.end());
  }
  std::vector<double> got = vals(first), got2 = vals(second);
  got.insert(got.end(), got2.begin(), got2.end());
  expect_near(got, want, 0);
}

TEST(Scan, Errors) {
  Var x = vector(DType::Float64, "x"), h0 = scalar(DType::Float64, "h0");
  auto two = [](const std::vector<Var>& a) { return ScanStepResult{{a[0], a[0]}}; };
  try {
    scan(two, {ScanSequence{x}}, {ScanOutput{h0}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("returned 2 outputs"), std::string::npos) << e.what();
  }
  Var h32 = scalar(DType::Float32, "h32");
  try {
    scan([](const std::vector<Var>& a) { return ScanStepResult{{a[1] + a[0]}}; }, {ScanSequence{x}}, {ScanOutput{h32}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("output 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scan"), std::string::npos) << e.what();
  }
  EXPECT_THROW(scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0]}}; }, {}, {ScanOutput{h0}}),
               std::invalid_argument);  // no sequences, no n_steps
  // Too few past values for the taps: caught when the shape is static, at run time otherwise.
  EXPECT_THROW(scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0] + a[1]}}; }, {ScanSequence{x}},
                    {ScanOutput{constant(f64({1.0})), {-2}}}),
               std::invalid_argument);
  Var init = vector(DType::Float64, "init");
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[0] + a[1]}}; }, {ScanSequence{x}},
                {ScanOutput{init, {-2}}});
  auto f = function({x, init}, {r.outputs[0]});
  EXPECT_THROW((*f)({f64({1, 2}), f64({1}, {1})}), std::invalid_argument);
  // A step whose output changes shape across steps.
  Var m = matrix(DType::Float64, "m"), v0 = vector(DType::Float64, "v0");
  auto r2 = scan([](const std::vector<Var>& a) { return ScanStepResult{{concatenate({a[1], a[0]})}}; },
                 {ScanSequence{m}}, {ScanOutput{v0}});
  auto f2 = function({m, v0}, {r2.outputs[0]});
  try {
    (*f2)({f64({1, 2}, {2, 1}), f64({0}, {1})});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("output 0"), std::string::npos) << e.what();
  }
}

namespace {

// h_t = tanh(h_{t-1} * w + x_t), y_t = h_t * x_t (a second, non-recurrent output).
ScanResult rnn(const Var& x, const Var& h0, const Var& w, int truncate = -1) {
  ScanOptions o;
  o.truncate_gradient = truncate;
  return scan(
      [](const std::vector<Var>& a) {
        Var h = tanh(a[1] * a[2] + a[0]);
        return ScanStepResult{{h, h * a[0]}};
      },
      {ScanSequence{x}}, {ScanOutput{h0}, ScanOutput{}}, {w}, o);
}

}  // namespace

TEST(ScanGrad, VerifyGradSimpleAndSeveralOutputs) {
  verify_grad(
      [](const std::vector<Var>& in) {
        auto r = rnn(in[0], in[1], in[2]);
        return sum(r.outputs[0]) + 2.0 * sum(r.outputs[1] * r.outputs[1]);
      },
      {f64(seq_data(5, 3, 0.5), {5, 3}), f64({0.1, 0.2, -0.3}), f64({0.9, -1.1, 0.4})});
}

TEST(ScanGrad, VerifyGradWithTaps) {
  // y_t = y[t-1] * tanh(x[t-2] + w) + 0.3 * y[t-3] * x[t+1]; z_t = y_t * x[t]
  verify_grad(
      [](const std::vector<Var>& in) {
        auto r = scan(
            [](const std::vector<Var>& a) {
              // a = x[t-2], x[t], x[t+1], y[t-3], y[t-1], w
              Var y = a[4] * tanh(a[0] + a[5]) + 0.3 * a[3] * a[2];
              return ScanStepResult{{y, y * a[1]}};
            },
            {ScanSequence{in[0], {-2, 0, 1}}}, {ScanOutput{in[1], {-3, -1}}, ScanOutput{}}, {in[2]});
        return sum(r.outputs[0] * r.outputs[0]) + sum(r.outputs[1]);
      },
      {f64(seq_data(7, 2, 0.8), {7, 2}), f64(seq_data(4, 2, 0.6), {4, 2}), f64({0.3, -0.2})});
}

TEST(ScanGrad, GoBackwardsAndSharedWeights) {
  Var wsh = shared(f64({0.7, -0.4}), "wsh");
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0");
  ScanOptions o;
  o.go_backwards = true;
  auto r = scan([&](const std::vector<Var>& a) { return ScanStepResult{{tanh(a[1] * wsh + a[0])}}; },
                {ScanSequence{x}}, {ScanOutput{h0}}, {}, o);
  Var cost = sum(r.outputs[0] * r.outputs[0]);
  auto g = grad(cost, {x, h0, wsh});
  auto f = function({x, h0}, g);
  Array xv = f64(seq_data(4, 2, 0.5), {4, 2}), hv = f64({0.2, -0.1});
  auto got = (*f)({xv, hv});
  // Finite differences on w through a compiled cost.
  auto fc = function({x, h0}, {cost});
  std::vector<double> w0 = vals(get_value(wsh)), num;
  for (size_t i = 0; i < w0.size(); ++i) {
    double e = 1e-6;
    auto wp = w0, wm = w0;
    wp[i] += e, wm[i] -= e;
    set_value(wsh, f64(wp, {2}));
    double cp = (*fc)({xv, hv})[0].item_double();
    set_value(wsh, f64(wm, {2}));
    double cm = (*fc)({xv, hv})[0].item_double();
    num.push_back((cp - cm) / (2 * e));
  }
  set_value(wsh, f64(w0, {2}));
  expect_near(vals(got[2]), num, 1e-6);
  verify_grad(
      [&](const std::vector<Var>& in) {
        auto r2 = scan([&](const std::vector<Var>& a) { return ScanStepResult{{tanh(a[1] * wsh + a[0])}}; },
                       {ScanSequence{in[0]}}, {ScanOutput{in[1]}}, {}, o);
        return sum(r2.outputs[0] * r2.outputs[0]);
      },
      {xv, hv});
}

TEST(ScanGrad, TruncatedBpttMatchesHandUnrolledGraph) {
  const int n = 6, k = 2;
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0"), w = vector(DType::Float64, "w");
  auto r = rnn(x, h0, w, k);
  Var last = subtensor(r.outputs[0], {IndexItem::integer(-1)});
  Var cost = sum(last * last);
  auto gs = grad(cost, {x, h0, w});
  // Hand-unrolled: gradients stop at the state entering the last k steps.
  Var h = h0;
  for (int t = 0; t < n; ++t) {
    if (t == n - k) h = disconnected_grad(h);
    h = tanh(h * w + subtensor(x, {IndexItem::integer(t)}));
  }
  Var cost2 = sum(h * h);
  GradOptions go;
  go.disconnected_inputs = DisconnectedInputs::Ignore;
  auto gu = grad(cost2, {x, h0, w}, go);
  std::vector<Var> outs(gs.begin(), gs.end());
  outs.insert(outs.end(), gu.begin(), gu.end());
  outs.push_back(cost);
  outs.push_back(cost2);
  auto f = function({x, h0, w}, outs);
  auto v = (*f)({f64(seq_data(n, 3, 0.5), {n, 3}), f64({0.1, 0.2, -0.3}), f64({0.9, -1.1, 0.4})});
  EXPECT_NEAR(v[6].item_double(), v[7].item_double(), 1e-12);
  for (int i = 0; i < 3; ++i) expect_near(vals(v[size_t(i)]), vals(v[size_t(3 + i)]), 1e-12);
  // Truncation changes the gradient of w (the untruncated one differs).
  auto full = grad(sum(subtensor(rnn(x, h0, w).outputs[0], {IndexItem::integer(-1)}) *
                       subtensor(rnn(x, h0, w).outputs[0], {IndexItem::integer(-1)})),
                   w);
  auto ff = function({x, h0, w}, {full});
  auto fv = (*ff)({f64(seq_data(n, 3, 0.5), {n, 3}), f64({0.1, 0.2, -0.3}), f64({0.9, -1.1, 0.4})});
  EXPECT_GT(std::abs(vals(fv[0])[0] - vals(v[2])[0]), 1e-6);
}

TEST(ScanGrad, GradOfGrad) {
  // d/dw of (d cost / d w): the backward scan is itself differentiable.
  verify_grad(
      [](const std::vector<Var>& in) {
        auto r = rnn(in[0], in[1], in[2]);
        return grad(sum(r.outputs[0] * r.outputs[0]), in[2]);
      },
      {f64(seq_data(4, 2, 0.5), {4, 2}), f64({0.1, 0.2}), f64({0.9, -1.1})});
}

TEST(ScanGrad, RopThroughScan) {
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0"), w = vector(DType::Float64, "w");
  Var v = vector(DType::Float64, "v");
  Var out = rnn(x, h0, w).outputs[0];
  Var jv = Rop({out}, {w}, {v})[0];
  auto f = function({x, h0, w, v}, {jv});
  auto fo = function({x, h0, w}, {out});
  Array xv = f64(seq_data(4, 2, 0.5), {4, 2}), hv = f64({0.1, 0.2});
  std::vector<double> wv{0.9, -1.1}, dv{0.3, -0.7};
  auto got = vals((*f)({xv, hv, f64(wv), f64(dv)})[0]);
  double e = 1e-6;
  std::vector<double> wp{wv[0] + e * dv[0], wv[1] + e * dv[1]}, wm{wv[0] - e * dv[0], wv[1] - e * dv[1]};
  auto op = vals((*fo)({xv, hv, f64(wp)})[0]), om = vals((*fo)({xv, hv, f64(wm)})[0]);
  std::vector<double> num;
  for (size_t i = 0; i < op.size(); ++i) num.push_back((op[i] - om[i]) / (2 * e));
  expect_near(got, num, 1e-6);
}

namespace {

const Scan* find_scan(const Function& f) {
  for (ApplyNode* n : f.nodes())
    if (auto* s = dynamic_cast<const Scan*>(n->op.get())) return s;
  return nullptr;
}

int count_inner(const Scan& s, ScalarOpId id) {
  int c = 0;
  for (ApplyNode* n : toposort(s.inner_outputs()))
    if (auto* e = dynamic_cast<const Elemwise*>(n->op.get()); e && e->scalar_op() == id) ++c;
  return c;
}

std::vector<Array> run_both(const std::vector<In>& ins, const std::vector<Var>& outs, const std::vector<Array>& args,
                            std::shared_ptr<Function>* fast = nullptr) {
  FunctionOptions o;
  o.mode = "FAST_RUN";
  auto f = function(ins, outs, o);
  o.mode = "None";
  auto g = function(ins, outs, o);
  auto a = (*f)(args), b = (*g)(args);
  for (size_t i = 0; i < a.size(); ++i) expect_near(vals(a[i]), vals(b[i]), 1e-12);
  if (fast) *fast = f;
  return a;
}

}  // namespace

TEST(ScanRewrite, SaveMemKeepsOnlyTheLastStep) {
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0"), w = vector(DType::Float64, "w");
  auto r = rnn(x, h0, w);
  Var last = subtensor(r.outputs[0], {IndexItem::integer(-1)});
  std::shared_ptr<Function> f;
  auto out = run_both({x, h0, w}, {last}, {f64(seq_data(50, 3), {50, 3}), f64({0.1, 0.2, 0.3}), f64({1, 2, 3})}, &f);
  EXPECT_EQ(out[0].shape(), (Shape{3}));
  EXPECT_GE(f->rewrites_applied().count("scan_save_mem"), 1u);
  const Scan* s = find_scan(*f);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->info().store_steps, (std::vector<int64_t>{1, 1}));  // h read at [-1]; y not read at all
  // A trace that is returned keeps every step.
  std::shared_ptr<Function> g;
  run_both({x, h0, w}, {last, r.outputs[1]}, {f64(seq_data(5, 3), {5, 3}), f64({0.1, 0.2, 0.3}), f64({1, 2, 3})}, &g);
  EXPECT_EQ(find_scan(*g)->info().store_steps, (std::vector<int64_t>{1, 0}));
}

TEST(ScanRewrite, SaveMemWithTapsAndMinusK) {
  Var init = vector(DType::Float64, "init");
  ScanOptions o;
  o.n_steps = constant(9.0, DType::Int64);
  auto r = scan([](const std::vector<Var>& a) { return ScanStepResult{{a[1] - 0.25 * a[0]}}; }, {},
                {ScanOutput{init, {-3, -1}}}, {}, o);
  Var y = subtensor(r.outputs[0], {IndexItem::integer(-2)});
  std::shared_ptr<Function> f;
  run_both({init}, {y}, {f64({1, 2, 3})}, &f);
  EXPECT_EQ(find_scan(*f)->info().store_steps, (std::vector<int64_t>{2}));
}

TEST(ScanRewrite, HoistsLoopInvariantsAndPushesOutSequenceWork) {
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0"), w = vector(DType::Float64, "w");
  auto r = scan(
      [](const std::vector<Var>& a) {
        Var ew = exp(a[2]) * 0.5;               // invariant: computed once
        Var xs = log1p(a[0] * a[0]) * a[2];     // per-step work on x_t and w only
        return ScanStepResult{{tanh(a[1] * ew + xs)}};
      },
      {ScanSequence{x}}, {ScanOutput{h0}}, {w});
  std::shared_ptr<Function> f;
  run_both({x, h0, w}, {r.outputs[0]}, {f64(seq_data(7, 3), {7, 3}), f64({0.1, 0.2, 0.3}), f64({0.5, -1, 2})}, &f);
  EXPECT_GE(f->rewrites_applied().count("scan_hoist_invariants"), 1u);
  EXPECT_GE(f->rewrites_applied().count("scan_pushout_seq_elemwise"), 1u);
  const Scan* s = find_scan(*f);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(count_inner(*s, ScalarOpId::exp), 0);
  EXPECT_EQ(count_inner(*s, ScalarOpId::log1p), 0);
  EXPECT_EQ(count_inner(*s, ScalarOpId::tanh), 1);
  // Gradients through the rewritten loop agree too; the backward loop reads
  // the shapes of its rows from outside (hoisted), not per step.
  Var cost = sum(r.outputs[0] * r.outputs[0]);
  std::shared_ptr<Function> g;
  run_both({x, h0, w}, grad(cost, {x, h0, w}),
           {f64(seq_data(7, 3), {7, 3}), f64({0.1, 0.2, 0.3}), f64({0.5, -1, 2})}, &g);
  int scans = 0;
  for (ApplyNode* node : g->nodes())
    if (auto* sc = dynamic_cast<const Scan*>(node->op.get())) {
      ++scans;
      for (ApplyNode* m : toposort(sc->inner_outputs()))
        EXPECT_EQ(dynamic_cast<const ShapeI*>(m->op.get()), nullptr) << sc->name();
    }
  EXPECT_EQ(scans, 2);
}

TEST(ScanRewrite, PushesInputProjectionsOutAsOneMatrixProduct) {
  // h_t = tanh(x_t . W + U . h_{t-1} + v . x_t): x_t . W and v . x_t become products over the whole sequence.
  Var x = matrix(DType::Float64, "x"), h0 = vector(DType::Float64, "h0");
  Var W = matrix(DType::Float64, "W"), U = matrix(DType::Float64, "U"), v = matrix(DType::Float64, "v");
  auto r = scan(
      [](const std::vector<Var>& a) {
        return ScanStepResult{{tanh(dot(a[0], a[2]) + dot(a[3], a[1]) + dot(a[4], a[0]))}};
      },
      {ScanSequence{x}}, {ScanOutput{h0}}, {W, U, v});
  Var cost = sum(r.outputs[0] * r.outputs[0]);
  std::vector<Var> outs{r.outputs[0]};
  for (const Var& g : grad(cost, {x, h0, W, U, v})) outs.push_back(g);
  std::shared_ptr<Function> f;
  auto m = [](int rows, int cols, double s) { return f64(seq_data(rows, cols, s), {rows, cols}); };
  run_both({x, h0, W, U, v}, outs, {m(6, 3, 0.5), f64({0.1, -0.2, 0.3, 0.4}), m(3, 4, 0.4), m(4, 4, 0.3), m(4, 3, 0.2)},
           &f);
  FunctionOptions o;
  auto fwd = function({x, h0, W, U, v}, {r.outputs[0]}, o);
  const Scan* s = find_scan(*fwd);
  ASSERT_NE(s, nullptr);
  int products = 0;
  for (ApplyNode* n : toposort(s->inner_outputs()))
    products += dynamic_cast<const Dot*>(n->op.get()) != nullptr;
  EXPECT_EQ(products, 1);  // only U . h_{t-1} stays in the loop
}
