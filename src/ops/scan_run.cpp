// Running a Scan: the inner graph is compiled once into a Function, whose
// optimized program is then replayed per step over one vector of value slots
// reused for the whole loop. Per step only views of the sequences and of the
// recurrent buffers are made; no Function call (argument checks, output
// detaching) happens inside the loop.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "theon/graph/shared.h"
#include "theon/ops/scan.h"

namespace theon {

struct Scan::Program {
  struct Step {
    ApplyNode* node;
    std::vector<int> in, out, release;
    std::vector<char> move_in;
  };
  std::shared_ptr<Function> fn;  // owns the optimized graph the steps point into
  std::vector<Step> steps;
  int num_slots = 0;
  std::vector<int> input_slots, output_slots;
  std::vector<std::pair<int, Array>> constants;
  std::vector<std::pair<int, Var>> shared;
};

std::shared_ptr<Scan::Program> Scan::program() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (program_) return program_;
  auto p = std::make_shared<Program>();
  std::vector<In> fin(inner_inputs_.begin(), inner_inputs_.end());
  FunctionOptions opt;
  opt.on_unused_input = "ignore";
  opt.no_default_updates = true;
  opt.name = name() + " inner";
  p->fn = function(fin, inner_outputs_, opt);
  std::unordered_map<const VariableNode*, int> slot;
  std::vector<char> fixed;  // inputs and constants: never released
  auto slot_of = [&](const Var& v) {
    auto [it, fresh] = slot.try_emplace(v.get(), p->num_slots);
    if (fresh) {
      ++p->num_slots;
      fixed.push_back(v.is_constant() || v.is_shared() || !v.owner());
      if (v.is_constant()) p->constants.push_back({it->second, v.constant_value()});
      else if (v.is_shared()) p->shared.push_back({it->second, v});
    }
    return it->second;
  };
  for (const auto& in : p->fn->inputs()) p->input_slots.push_back(slot_of(in.variable));
  for (ApplyNode* n : p->fn->nodes()) {
    Program::Step s{n, {}, {}, {}, {}};
    for (const auto& v : n->inputs) s.in.push_back(slot_of(v));
    for (size_t i = 0; i < n->outputs.size(); ++i) s.out.push_back(slot_of(n->output(int(i))));
    p->steps.push_back(std::move(s));
  }
  for (const auto& o : p->fn->outputs()) p->output_slots.push_back(slot_of(o));
  std::vector<char> keep(size_t(p->num_slots), 0);
  for (int s : p->output_slots) keep[size_t(s)] = 1;
  std::unordered_map<int, size_t> last;
  for (size_t k = 0; k < p->steps.size(); ++k)
    for (int s : p->steps[k].in) last[s] = k;
  for (auto [s, k] : last)
    if (!keep[size_t(s)] && !fixed[size_t(s)]) p->steps[k].release.push_back(s);
  // The per-step inputs (sequence rows, past states) are set afresh every
  // step, so one read once is handed over (moved) like a released value.
  std::vector<int> reads(size_t(p->num_slots), 0);
  for (const auto& st : p->steps)
    for (int s : st.in) ++reads[size_t(s)];
  std::vector<char> per_step(size_t(p->num_slots), 0);
  size_t n_step_inputs = size_t(info_.n_inner_seq_inputs() + info_.n_inner_rec_inputs());
  for (size_t i = 0; i < n_step_inputs; ++i) per_step[size_t(p->input_slots[i])] = 1;
  for (size_t i = n_step_inputs; i < p->input_slots.size(); ++i) per_step[size_t(p->input_slots[i])] = 0;
  for (auto& st : p->steps) {
    st.move_in.assign(st.in.size(), 0);
    for (size_t i = 0; i < st.in.size(); ++i) {
      int s = st.in[i];
      bool rel = std::find(st.release.begin(), st.release.end(), s) != st.release.end();
      bool once = per_step[size_t(s)] && reads[size_t(s)] == 1 && !keep[size_t(s)];
      st.move_in[i] = (rel || once) && std::count(st.in.begin(), st.in.end(), s) == 1;
    }
  }
  program_ = p;
  return p;
}

namespace {

// Storage of one trace: `cap` rows; logical step p (from -L) lives in row
// (p + L) % cap. A full trace never wraps (cap >= L + steps); a saved one
// keeps max(L, k) rows and wraps.
struct TraceBuf {
  Array buf;
  int64_t L = 0, cap = 0;
  bool circular = false;
  Array row(int64_t p) const { return buf.index(0, (p + L) % cap); }
  // Writes step p's value (a plain copy when it is C-contiguous, the common case).
  void store(int64_t p, const Array& r) const {
    if (r.is_c_contiguous() && r.dtype() == buf.dtype()) {
      size_t bytes = r.nbytes();
      char* dst = static_cast<char*>(buf.data()) + size_t((p + L) % cap) * bytes;
      if (dst != r.data()) std::memmove(dst, r.data(), bytes);
    } else {
      row(p).assign(r);
    }
  }
  // Makes room for logical step t in a full trace (growing geometrically).
  void ensure(int64_t t, int64_t max_steps) {
    if (circular || t + L < cap) return;
    int64_t ncap = L + std::min(max_steps, std::max<int64_t>(2 * (cap - L), 16));
    Shape s = buf.shape();
    s[0] = ncap;
    Array nb = Array::empty(buf.dtype(), s);
    if (cap > 0) nb.slice(0, 0, cap, 1).assign(buf);
    buf = nb;
    cap = ncap;
  }
};

Shape with_rows(int64_t rows, const Shape& row) {
  Shape s{rows};
  s.insert(s.end(), row.begin(), row.end());
  return s;
}

}  // namespace

void Scan::perform(const std::vector<Array>& ins, std::vector<Array>& outs) const {
  const ScanInfo& I = info_;
  const std::string who = "[" + name() + "] ";
  auto P = program();

  int64_t n = ins[0].item_int();
  for (int i = 0; i < I.n_seq(); ++i) {
    const auto& taps = I.seq_taps[size_t(i)];
    int lo = std::min(0, *std::min_element(taps.begin(), taps.end()));
    int hi = std::max(0, *std::max_element(taps.begin(), taps.end()));
    int64_t len = ins[size_t(1 + i)].shape()[0];
    int64_t avail = len - (hi - lo);
    if (avail < 0)
      throw std::invalid_argument(who + "sequence " + std::to_string(i) + " has " + std::to_string(len) +
                                  " steps, fewer than its taps need (" + std::to_string(hi - lo) + ")");
    n = n < 0 ? avail : std::min(n, avail);
  }
  if (n < 0) throw std::invalid_argument(who + "n_steps is negative and there is no sequence to take it from");

  // Growing buffers only when `until` may stop early.
  const int64_t first_cap = I.has_until ? std::min<int64_t>(n, 64) : n;
  std::vector<TraceBuf> rec(size_t(I.n_rec())), nit(size_t(I.n_nit));
  for (int k = 0; k < I.n_rec(); ++k) {
    const Array& init = ins[size_t(I.first_outer_init() + k)];
    int64_t L = I.rec_len(k);
    if (init.shape()[0] < L)
      throw std::invalid_argument(who + "initial value of " + I.output_desc(k) + " has " +
                                  std::to_string(init.shape()[0]) + " rows along axis 0; its taps need " +
                                  std::to_string(L) + " past values");
    TraceBuf& b = rec[size_t(k)];
    b.L = L;
    int64_t store = I.store_steps[size_t(k)];
    b.circular = store > 0;
    b.cap = b.circular ? std::max<int64_t>(L, store) : L + first_cap;
    Shape row(init.shape().begin() + 1, init.shape().end());
    b.buf = Array::empty(init.dtype(), with_rows(b.cap, row));
    for (int64_t p = -L; p < 0; ++p) b.row(p).assign(init.index(0, p + L));
  }

  std::vector<Array> vals(size_t(P->num_slots));
  for (const auto& [s, v] : P->constants) vals[size_t(s)] = v;
  for (const auto& [s, v] : P->shared) vals[size_t(s)] = v->storage->host_value();
  size_t nonseq0 = size_t(I.n_inner_seq_inputs() + I.n_inner_rec_inputs());
  for (int m = 0; m < I.n_nonseq; ++m)
    vals[size_t(P->input_slots[nonseq0 + size_t(m)])] = ins[size_t(I.first_outer_nonseq() + m)];

  // Argument and result lists of each inner op, reused across steps.
  std::vector<std::vector<Array>> args(P->steps.size()), results(P->steps.size());
  int64_t done = n;
  for (int64_t t = 0; t < n; ++t) {
    size_t in = 0;
    for (int i = 0; i < I.n_seq(); ++i) {
      const auto& taps = I.seq_taps[size_t(i)];
      int lo = std::min(0, *std::min_element(taps.begin(), taps.end()));
      for (int tap : taps) vals[size_t(P->input_slots[in++])] = ins[size_t(1 + i)].index(0, t + tap - lo);
    }
    for (int k = 0; k < I.n_rec(); ++k)
      for (int tap : I.rec_taps[size_t(k)]) vals[size_t(P->input_slots[in++])] = rec[size_t(k)].row(t + tap);

    for (size_t k = 0; k < P->steps.size(); ++k) {
      const auto& st = P->steps[k];
      std::vector<Array>& a = args[k];
      std::vector<Array>& o = results[k];
      a.clear();
      for (size_t i = 0; i < st.in.size(); ++i)
        a.push_back(st.move_in[i] ? std::move(vals[size_t(st.in[i])]) : vals[size_t(st.in[i])]);
      o.assign(st.out.size(), Array());
      st.node->op->perform(a, o);
      for (size_t i = 0; i < o.size(); ++i) vals[size_t(st.out[i])] = std::move(o[i]);
      for (int s : st.release) vals[size_t(s)] = Array();
    }

    for (int k = 0; k < I.n_traces(); ++k) {
      const Array& r = vals[size_t(P->output_slots[size_t(k)])];
      bool is_rec = k < I.n_rec();
      TraceBuf& b = is_rec ? rec[size_t(k)] : nit[size_t(k - I.n_rec())];
      if (!is_rec && !b.buf.defined()) {
        int64_t store = I.store_steps[size_t(k)];
        b.circular = store > 0;
        b.cap = b.circular ? store : first_cap;
        b.buf = Array::empty(r.dtype(), with_rows(b.cap, r.shape()));
      }
      const Shape& bs = b.buf.shape();
      if (r.dtype() != b.buf.dtype() || r.ndim() + 1 != b.buf.ndim() ||
          !std::equal(r.shape().begin(), r.shape().end(), bs.begin() + 1))
        throw std::invalid_argument(who + "step " + std::to_string(t) + ": " + I.output_desc(k) + " has shape " + shape_str(r.shape()) + ", but " +
                                    (is_rec ? "its initial value (the previous state) has shape "
                                            : "earlier steps gave shape ") +
                                    shape_str(Shape(bs.begin() + 1, bs.end())));
      b.ensure(t, n);
      b.store(t, r);
    }
    if (I.has_until && vals[size_t(P->output_slots.back())].item_double() != 0.0) {
      done = t + 1;
      break;
    }
  }

  for (int k = 0; k < I.n_traces(); ++k) {
    bool is_rec = k < I.n_rec();
    TraceBuf& b = is_rec ? rec[size_t(k)] : nit[size_t(k - I.n_rec())];
    if (!b.buf.defined()) {  // a non-recurrent output of a loop that ran no step
      Shape row;
      for (auto d : inner_outputs_[size_t(k)].type().shape) row.push_back(d < 0 ? 0 : d);
      outs[size_t(k)] = Array::empty(inner_outputs_[size_t(k)].dtype(), with_rows(0, row));
      continue;
    }
    Shape row(b.buf.shape().begin() + 1, b.buf.shape().end());
    if (!b.circular) {
      outs[size_t(k)] = b.buf.slice(0, b.L, b.L + done, 1);
    } else {
      int64_t m = std::min(I.store_steps[size_t(k)], done);
      Array o = Array::empty(b.buf.dtype(), with_rows(m, row));
      for (int64_t j = 0; j < m; ++j) o.index(0, j).assign(b.row(done - m + j));
      outs[size_t(k)] = o;
    }
  }
  for (int s = 0; s < I.n_shared; ++s) {
    int k = I.n_rec() - I.n_shared + s;
    outs[size_t(I.n_traces() + s)] = rec[size_t(k)].row(done - 1).copy();
  }
}

}  // namespace theon
