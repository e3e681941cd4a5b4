// The gradient of Scan: backpropagation through time as a second scan.
//
// Step s of the forward loop computes y_k[s] from sequence slices, past
// values y_k[s + tap] and non-sequences. With a_k[s] the total gradient
// reaching y_k[s], the backward scan runs s = n-1 .. 0 (its sequences are
// the forward ones reversed) and at each step recomputes the forward step,
// takes its vector-Jacobian product with a[s], and emits
//   g_{k,tap}[s]: the part of the gradient sent to y_k[s + tap]; a recurrent
//                 output of the backward scan read |tap| steps later, so
//                 a_k[s] = G_k[s] + sum_tap g_{k,tap}[s - tap];
//   the gradients of the sequence slices (non-recurrent outputs), and
//   running sums of the non-sequences' gradients.
// Contributions to the initial values are the g's of the first steps.
// truncate_gradient = k runs the backward scan over the last k steps only.
// The backward scan is a Scan built by scan(), so it is differentiable again.
#include <algorithm>
#include <stdexcept>

#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/reduce.h"
#include "theon/ops/scan.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

Var i64(int64_t v) { return constant(double(v), DType::Int64); }
Var rev(const Var& v) { return subtensor(v, {IndexItem::slice(std::nullopt, std::nullopt, -1)}); }
Var rows(const Var& x, const Var& start, const Var& stop) { return subtensor(x, {IndexItem::slice(start, stop)}); }

// zeros of shape (r, x.shape[1:]).
Var zero_rows(const Var& r, const Var& x) {
  std::vector<Var> s{r};
  for (int d = 1; d < x.ndim(); ++d) s.push_back(shape_i(x, d));
  return zeros(s, x.dtype());
}

}  // namespace

std::vector<InputGrad> Scan::L_op(const ApplyNode& node, const std::vector<Var>& gz) const {
  const ScanInfo& I = info_;
  const int R = I.n_rec(), N = I.n_nit;
  std::vector<InputGrad> g(node.inputs.size(), InputGrad::disconnected());
  std::vector<Var> G(size_t(R + N));
  bool any = false;
  for (int k = 0; k < R + N; ++k)
    if (gz[size_t(k)].defined() && is_float(node.outputs[size_t(k)].type.dtype)) G[size_t(k)] = gz[size_t(k)], any = true;
  for (int s = 0; s < I.n_shared; ++s) {
    const Var& gf = gz[size_t(R + N + s)];
    int k = R - I.n_shared + s;
    if (!gf.defined() || !is_float(gf.dtype())) continue;
    Var base = G[size_t(k)].defined() ? G[size_t(k)] : zeros_like(node.output(k));
    G[size_t(k)] = inc_subtensor(base, {IndexItem::integer(-1)}, gf);
    any = true;
  }
  if (!any) return g;

  Var n = shape_i(node.output(0), 0);
  Var kk = I.truncate_gradient > 0 ? minimum(n, i64(I.truncate_gradient)) : n;
  const size_t n_seq_in = size_t(I.n_inner_seq_inputs()), n_rec_in = size_t(I.n_inner_rec_inputs());

  // Backward sequences: forward inputs of each step, then the seeds G.
  std::vector<ScanSequence> seqs;
  std::vector<int> seq_lo;
  for (int i = 0; i < I.n_seq(); ++i) {
    const auto& taps = I.seq_taps[size_t(i)];
    int lo = std::min(0, *std::min_element(taps.begin(), taps.end()));
    seq_lo.push_back(lo);
    const Var& X = node.inputs[size_t(1 + i)];
    for (int tap : taps) seqs.push_back({rev(rows(X, i64(tap - lo), i64(tap - lo) + n))});
  }
  std::vector<Var> inits;
  for (int k = 0; k < R; ++k) {
    const Var& init = node.inputs[size_t(I.first_outer_init() + k)];
    int64_t L = I.rec_len(k);
    inits.push_back(init);
    Var B = concatenate({rows(init, i64(0), i64(L)), node.output(k)});
    for (int tap : I.rec_taps[size_t(k)]) seqs.push_back({rev(rows(B, i64(L + tap), i64(L + tap) + n))});
  }
  std::vector<int> g_seq_at(size_t(R + N), -1);
  for (int j = 0; j < R + N; ++j)
    if (G[size_t(j)].defined()) {
      g_seq_at[size_t(j)] = int(seqs.size());
      seqs.push_back({rev(G[size_t(j)])});
    }

  // Backward recurrent outputs: g_{k,tap} for float recurrent outputs, then gradient sums of float non-sequences.
  std::vector<ScanOutput> outs;
  std::vector<std::pair<int, int>> g_rec;  // (k, tap)
  for (int k = 0; k < R; ++k) {
    if (!is_float(inits[size_t(k)].dtype())) continue;
    for (int tap : I.rec_taps[size_t(k)]) {
      g_rec.push_back({k, tap});
      outs.push_back({zero_rows(i64(-tap), inits[size_t(k)]), {tap}});
    }
  }
  std::vector<int> g_ns;
  std::vector<Var> nonseqs;
  for (int m = 0; m < I.n_nonseq; ++m) {
    const Var& v = node.inputs[size_t(I.first_outer_nonseq() + m)];
    nonseqs.push_back(v);
    if (is_float(v.dtype())) {
      g_ns.push_back(m);
      outs.push_back({zeros_like(v), {}});
    }
  }
  std::vector<std::pair<int, int>> g_slice;  // (sequence, inner slice index)
  {
    size_t at = 0;
    for (int i = 0; i < I.n_seq(); ++i)
      for (size_t t = 0; t < I.seq_taps[size_t(i)].size(); ++t, ++at)
        if (is_float(inner_inputs_[at].dtype())) {
          g_slice.push_back({i, int(at)});
          outs.push_back({});
        }
  }

  auto step = [&](const std::vector<Var>& a) -> ScanStepResult {
    size_t p = 0;
    std::vector<std::pair<Var, Var>> rep;
    std::vector<Var> fwd_in;
    for (size_t q = 0; q < n_seq_in + n_rec_in; ++q, ++p) fwd_in.push_back(a[p]);
    std::vector<Var> Gs(size_t(R + N));
    for (int j = 0; j < R + N; ++j)
      if (g_seq_at[size_t(j)] >= 0) Gs[size_t(j)] = a[p++];
    std::vector<Var> g_past;
    for (size_t q = 0; q < g_rec.size(); ++q) g_past.push_back(a[p++]);
    std::vector<Var> acc;
    for (size_t q = 0; q < g_ns.size(); ++q) acc.push_back(a[p++]);
    for (int m = 0; m < I.n_nonseq; ++m) fwd_in.push_back(a[p++]);
    for (size_t q = 0; q < fwd_in.size(); ++q) rep.push_back({inner_inputs_[q], fwd_in[q]});
    std::vector<Var> fwd(inner_outputs_.begin(), inner_outputs_.begin() + R + N);
    fwd = clone_replace(fwd, rep);

    std::vector<Var> adj = Gs;
    for (size_t q = 0; q < g_rec.size(); ++q) {
      Var& x = adj[size_t(g_rec[q].first)];
      x = x.defined() ? x + g_past[q] : g_past[q];
    }
    // The adjoints seed the walk directly (no scalar cost to differentiate,
    // so no broadcast of its gradient per step); an output returned twice gets both.
    std::vector<std::pair<Var, Var>> seeds;
    for (int j = 0; j < R + N; ++j) {
      if (!adj[size_t(j)].defined() || !is_float(fwd[size_t(j)].dtype())) continue;
      Var a = cast(adj[size_t(j)], fwd[size_t(j)].dtype());
      auto same = std::find_if(seeds.begin(), seeds.end(), [&](const auto& s) { return s.first.is(fwd[size_t(j)]); });
      if (same != seeds.end()) same->second = same->second + a;
      else seeds.push_back({fwd[size_t(j)], a});
    }
    std::vector<Var> wrt;
    size_t rec_base = n_seq_in;
    std::vector<size_t> rec_first(static_cast<size_t>(R));
    for (int k = 0; k < R; ++k) {
      rec_first[size_t(k)] = rec_base;
      rec_base += I.rec_taps[size_t(k)].size();
    }
    for (auto [k, tap] : g_rec) {
      const auto& taps = I.rec_taps[size_t(k)];
      wrt.push_back(fwd_in[rec_first[size_t(k)] + size_t(std::find(taps.begin(), taps.end(), tap) - taps.begin())]);
    }
    for (int m : g_ns) wrt.push_back(fwd_in[n_seq_in + n_rec_in + size_t(m)]);
    for (auto [i, at] : g_slice) wrt.push_back(fwd_in[size_t(at)]);
    std::vector<Var> gr;
    if (!seeds.empty() && !wrt.empty()) {
      GradOptions go;
      go.disconnected_inputs = DisconnectedInputs::Ignore;
      go.return_disconnected = ReturnDisconnected::Zero;
      go.null_gradients_raise = false;
      go.known_grads = seeds;
      gr = grad(Var(), wrt, go);
    }
    gr.resize(wrt.size());
    for (size_t q = 0; q < wrt.size(); ++q)
      if (!gr[q].defined()) gr[q] = zeros_like(wrt[q]);
    ScanStepResult r;
    size_t q = 0;
    for (size_t t = 0; t < g_rec.size(); ++t) r.outputs.push_back(gr[q++]);
    for (size_t t = 0; t < g_ns.size(); ++t, ++q) r.outputs.push_back(acc[t] + gr[q]);
    for (size_t t = 0; t < g_slice.size(); ++t) r.outputs.push_back(gr[q++]);
    return r;
  };

  ScanOptions bo;
  bo.n_steps = kk;
  bo.name = "grad_of_" + (I.name.empty() ? std::string("scan") : I.name);
  ScanResult back = scan(step, seqs, outs, nonseqs, bo);

  size_t o = 0;
  // Initial values: row L + t (t in [tap, -1]) gets g_{k,tap}[t - tap], the first |tap| forward steps.
  std::vector<Var> ginit(static_cast<size_t>(R));
  for (auto [k, tap] : g_rec) {
    const Var& init = inits[size_t(k)];
    int64_t L = I.rec_len(k);
    Var fwd = concatenate({zero_rows(n - kk, init), rev(back.outputs[o++]), zero_rows(i64(-tap), init)});
    Var piece = rows(fwd, i64(0), i64(-tap));
    Var& gi = ginit[size_t(k)];
    gi = inc_subtensor(gi.defined() ? gi : zeros_like(init), {IndexItem::slice(L + tap, L)}, piece);
  }
  for (int k = 0; k < R; ++k)
    if (ginit[size_t(k)].defined()) g[size_t(I.first_outer_init() + k)] = InputGrad::of(ginit[size_t(k)]);
  for (int m : g_ns)
    g[size_t(I.first_outer_nonseq() + m)] = InputGrad::of(subtensor(back.outputs[o++], {IndexItem::integer(-1)}));
  std::vector<Var> gseq(size_t(I.n_seq()));
  {
    std::vector<int> tap_of;  // inner slice index -> its tap
    for (int i = 0; i < I.n_seq(); ++i)
      for (int tap : I.seq_taps[size_t(i)]) tap_of.push_back(tap);
    for (auto [i, slice] : g_slice) {
      const Var& X = node.inputs[size_t(1 + i)];
      Var start = i64(tap_of[size_t(slice)] - seq_lo[size_t(i)]) + n - kk;
      Var& gx = gseq[size_t(i)];
      gx = inc_subtensor(gx.defined() ? gx : zeros_like(X), {IndexItem::slice(start, start + kk)},
                         rev(back.outputs[o++]));
    }
  }
  for (int i = 0; i < I.n_seq(); ++i)
    if (gseq[size_t(i)].defined()) g[size_t(1 + i)] = InputGrad::of(gseq[size_t(i)]);
  return g;
}

}  // namespace theon
