// scan(): calls the step function once on placeholders, collects what the
// step reads from outside (implicit non-sequences) and which shared variables
// it updates (loop-carried state), checks the step's outputs against the
// recurrent initial values, and applies the Scan op.
#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "theon/graph/shared.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/scan.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

TensorType row_type(const TensorType& t) {
  return TensorType(t.dtype, std::vector<int64_t>(t.shape.begin() + 1, t.shape.end()));
}

std::string taps_str(const std::vector<int>& taps) {
  std::string s = "[";
  for (size_t i = 0; i < taps.size(); ++i) s += (i ? ", " : "") + std::to_string(taps[i]);
  return s + "]";
}

}  // namespace

ScanResult scan(const ScanStepFn& fn, const std::vector<ScanSequence>& sequences,
                const std::vector<ScanOutput>& outputs_info, const std::vector<Var>& non_sequences,
                const ScanOptions& opt) {
  const std::string who = opt.name.empty() ? "scan: " : "scan '" + opt.name + "': ";
  ScanInfo info;
  info.truncate_gradient = opt.truncate_gradient;
  info.name = opt.name;
  std::vector<Var> args, seq_ph, outer_seqs;

  for (size_t i = 0; i < sequences.size(); ++i) {
    const ScanSequence& s = sequences[i];
    std::string what = who + "sequence " + std::to_string(i);
    if (!s.input.defined()) throw std::invalid_argument(what + " is undefined");
    if (s.input.ndim() < 1) throw std::invalid_argument(what + " must have at least one axis to iterate over, got a scalar");
    if (s.taps.empty()) throw std::invalid_argument(what + " has no taps");
    std::unordered_set<int> seen;
    for (int tap : s.taps)
      if (!seen.insert(tap).second) throw std::invalid_argument(what + ": tap " + std::to_string(tap) + " is given twice");
    Var x = opt.go_backwards ? subtensor(s.input, {IndexItem::slice(std::nullopt, std::nullopt, -1)}) : s.input;
    outer_seqs.push_back(x);
    info.seq_taps.push_back(s.taps);
    for (int tap : s.taps) {
      std::string nm = s.input.name().empty() ? "" : s.input.name() + "[t" + (tap < 0 ? "" : "+") + std::to_string(tap) + "]";
      Var p = variable(row_type(s.input.type()), nm);
      seq_ph.push_back(p);
      args.push_back(p);
    }
  }

  // Recurrent outputs keep their order; -1 in where_rec marks a non-recurrent one.
  std::vector<int> where_rec(outputs_info.size(), -1);
  std::vector<Var> inits, rec_ph;
  std::vector<TensorType> rec_row;
  for (size_t j = 0; j < outputs_info.size(); ++j) {
    const ScanOutput& o = outputs_info[j];
    std::string what = who + "outputs_info[" + std::to_string(j) + "]";
    if (!o.initial.defined()) {
      if (!o.taps.empty()) throw std::invalid_argument(what + " has taps but no initial value");
      continue;
    }
    std::vector<int> taps = o.taps;
    Var init;
    if (taps.empty()) {
      taps = {-1};
      init = expand_dims(o.initial, 0);
    } else {
      for (int tap : taps)
        if (tap >= 0)
          throw std::invalid_argument(what + ": taps of an output must be negative (past values), got " + taps_str(taps));
      std::sort(taps.begin(), taps.end());
      if (std::adjacent_find(taps.begin(), taps.end()) != taps.end())
        throw std::invalid_argument(what + ": taps " + taps_str(taps) + " repeat a tap");
      if (o.initial.ndim() < 1)
        throw std::invalid_argument(what + ": with taps " + taps_str(taps) + " the initial value must have a leading axis of " +
                                    std::to_string(-taps.front()) + " past values, got a scalar");
      int64_t rows = o.initial.type().shape[0];
      if (rows != kUnknownDim && rows < -taps.front())
        throw std::invalid_argument(what + ": taps " + taps_str(taps) + " need " + std::to_string(-taps.front()) +
                                    " past values, but the initial value has " + std::to_string(rows) + " along axis 0");
      init = o.initial;
    }
    where_rec[j] = int(inits.size());
    inits.push_back(init);
    info.rec_taps.push_back(taps);
    rec_row.push_back(row_type(init.type()));
    // Placeholders in the order the user listed the taps (Theano passes them so).
    for (int tap : o.taps.empty() ? std::vector<int>{-1} : o.taps) {
      std::string base = o.initial.name().empty() ? "out" + std::to_string(j) : o.initial.name();
      Var p = variable(rec_row.back(), base + "[t" + std::to_string(tap) + "]");
      rec_ph.push_back(p);
      args.push_back(p);
    }
  }
  std::vector<Var> nonseq_ph;
  for (size_t m = 0; m < non_sequences.size(); ++m) {
    if (!non_sequences[m].defined()) throw std::invalid_argument(who + "non_sequences[" + std::to_string(m) + "] is undefined");
    Var p = variable(non_sequences[m].type(), non_sequences[m].name());
    nonseq_ph.push_back(p);
    args.push_back(p);
  }
  bool n_given = opt.n_steps.defined();
  if (n_given && (opt.n_steps.ndim() != 0 || !is_integer(opt.n_steps.dtype())))
    throw std::invalid_argument(who + "n_steps must be an integer scalar, got " + opt.n_steps.type().str());
  if (!n_given && sequences.empty())
    throw std::invalid_argument(who + "n_steps must be given when there are no sequences");

  ScanStepResult r = fn(args);

  size_t n_out = outputs_info.empty() ? r.outputs.size() : outputs_info.size();
  if (outputs_info.empty()) where_rec.assign(n_out, -1);
  if (r.outputs.size() != n_out)
    throw std::invalid_argument(who + "the step function returned " + std::to_string(r.outputs.size()) +
                                " outputs, but outputs_info has " + std::to_string(n_out) + " entries");
  for (size_t j = 0; j < n_out; ++j) {
    const Var& o = r.outputs[j];
    if (!o.defined()) throw std::invalid_argument(who + "output " + std::to_string(j) + " of the step is undefined");
    int k = where_rec[j];
    if (k < 0) continue;
    const TensorType& want = rec_row[size_t(k)];
    if (o.dtype() != want.dtype || o.ndim() != want.ndim())
      throw std::invalid_argument(who + "output " + std::to_string(j) + " of the step is " + o.type().str() +
                                  ", but its initial value (outputs_info[" + std::to_string(j) + "]) gives the state type " +
                                  want.str() + "; the step must return the same dtype and rank (cast it)");
    for (int d = 0; d < o.ndim(); ++d) {
      int64_t a = o.type().shape[size_t(d)], b = want.shape[size_t(d)];
      if (a != kUnknownDim && b != kUnknownDim && a != b)
        throw std::invalid_argument(who + "output " + std::to_string(j) + " of the step has shape " + o.type().str() +
                                    ", but its initial value gives the state shape " + want.str());
    }
  }
  if (r.until.defined() && r.until.ndim() != 0)
    throw std::invalid_argument(who + "until() needs a scalar condition, got " + r.until.type().str());

  // Shared variables the step updates, explicitly or through default updates (random streams).
  Updates shared_upd;
  std::unordered_set<const VariableNode*> updated, from_default;
  for (const auto& [sv, val] : r.updates) {
    if (!sv.defined() || !sv.is_shared())
      throw std::invalid_argument(who + "update target '" + (sv.defined() ? sv.str() : "?") + "' is not a shared variable");
    if (!val.defined()) throw std::invalid_argument(who + "the update of '" + sv.str() + "' is undefined");
    if (!updated.insert(sv.get()).second)
      throw std::invalid_argument(who + "shared variable '" + sv.str() + "' is updated twice");
    if (val.dtype() != sv.dtype() || val.ndim() != sv.ndim())
      throw std::invalid_argument(who + "the update of '" + sv.str() + "' must have its type " + sv.type().str() +
                                  ", got " + val.type().str());
    shared_upd.push_back({sv, val});
  }
  for (bool added = true; added;) {
    added = false;
    std::vector<Var> roots(r.outputs.begin(), r.outputs.end());
    for (auto& u : shared_upd) roots.push_back(u.second);
    if (r.until.defined()) roots.push_back(r.until);
    for (const Var& leaf : graph_inputs(roots)) {
      if (!leaf.is_shared() || updated.count(leaf.get())) continue;
      Var du = default_update_of(leaf);
      // A state another scan already advances (its default update is that scan's result) is read, not drawn from.
      if (!du.defined() || (du.owner() && dynamic_cast<const Scan*>(du.owner()->op.get()))) continue;
      updated.insert(leaf.get());
      shared_upd.push_back({leaf, du});
      from_default.insert(leaf.get());
      added = true;
    }
  }

  if (n_out == 0 && shared_upd.empty())
    throw std::invalid_argument(who + "the step function returns no outputs and updates no shared variable");

  // Inner graph: rec outputs (user order), shared states, non-recurrent outputs, until.
  std::vector<Var> roots, shared_ph;
  for (size_t j = 0; j < n_out; ++j)
    if (where_rec[j] >= 0) roots.push_back(r.outputs[j]);
  std::vector<std::pair<Var, Var>> rep;
  for (auto& [sv, val] : shared_upd) {
    roots.push_back(val);
    Var p = variable(sv.type(), sv.name());
    shared_ph.push_back(p);
    rep.push_back({sv, p});
    inits.push_back(expand_dims(sv, 0));
    info.rec_taps.push_back({-1});
  }
  for (size_t j = 0; j < n_out; ++j)
    if (where_rec[j] < 0) roots.push_back(r.outputs[j]);
  if (r.until.defined()) roots.push_back(r.until);
  info.n_nit = 0;
  for (size_t j = 0; j < n_out; ++j) info.n_nit += where_rec[j] < 0;
  info.n_shared = int(shared_upd.size());
  for (size_t j = 0; j < n_out; ++j)
    if (where_rec[j] >= 0) info.user_index.push_back(int(j));
  for (int s = 0; s < info.n_shared; ++s) info.user_index.push_back(-1 - s);
  for (size_t j = 0; j < n_out; ++j)
    if (where_rec[j] < 0) info.user_index.push_back(int(j));
  info.has_until = r.until.defined();

  std::unordered_set<const VariableNode*> own;
  for (const auto* list : {&seq_ph, &rec_ph, &nonseq_ph})
    for (const Var& p : *list) own.insert(p.get());
  std::unordered_map<const VariableNode*, size_t> explicit_ns;
  for (size_t m = 0; m < non_sequences.size(); ++m) explicit_ns.emplace(non_sequences[m].get(), m);
  std::vector<Var> outer_ns(non_sequences.begin(), non_sequences.end());
  for (const Var& leaf : graph_inputs(roots)) {
    if (own.count(leaf.get()) || leaf.is_constant() || updated.count(leaf.get())) continue;
    auto it = explicit_ns.find(leaf.get());
    if (it != explicit_ns.end()) {
      rep.push_back({leaf, nonseq_ph[it->second]});
      continue;
    }
    if (opt.strict && !leaf.is_shared())
      throw std::invalid_argument(who + "strict: the step reads '" + leaf.str() +
                                  "', which is not a non-sequence (pass it in non_sequences)");
    Var p = variable(leaf.type(), leaf.name());
    nonseq_ph.push_back(p);
    outer_ns.push_back(leaf);
    rep.push_back({leaf, p});
  }
  std::vector<Var> inner_out = rep.empty() ? roots : clone_replace(roots, rep);
  info.n_nonseq = int(nonseq_ph.size());

  // Inner inputs: sequence taps, then each recurrent output's taps in ascending order.
  std::vector<Var> inner_in(seq_ph.begin(), seq_ph.end());
  size_t pos = 0;
  for (size_t j = 0; j < outputs_info.size(); ++j) {
    if (where_rec[j] < 0) continue;
    std::vector<int> given = outputs_info[j].taps.empty() ? std::vector<int>{-1} : outputs_info[j].taps;
    const auto& sorted = info.rec_taps[size_t(where_rec[j])];
    for (int tap : sorted) {
      size_t at = size_t(std::find(given.begin(), given.end(), tap) - given.begin());
      inner_in.push_back(rec_ph[pos + at]);
    }
    pos += given.size();
  }
  inner_in.insert(inner_in.end(), shared_ph.begin(), shared_ph.end());
  inner_in.insert(inner_in.end(), nonseq_ph.begin(), nonseq_ph.end());

  std::vector<Var> outer{n_given ? cast(opt.n_steps, DType::Int64) : constant(-1.0, DType::Int64)};
  outer.insert(outer.end(), outer_seqs.begin(), outer_seqs.end());
  outer.insert(outer.end(), inits.begin(), inits.end());
  outer.insert(outer.end(), outer_ns.begin(), outer_ns.end());
  std::vector<Var> res = apply_scan(info, inner_in, inner_out, outer);

  ScanResult out;
  int nit = 0;
  for (size_t j = 0; j < n_out; ++j) {
    Var v = where_rec[j] >= 0 ? res[size_t(where_rec[j])] : res[size_t(info.n_rec() + nit++)];
    if (!opt.name.empty()) v.set_name(opt.name + "[" + std::to_string(j) + "]");
    out.outputs.push_back(v);
  }
  for (int s = 0; s < info.n_shared; ++s) {
    const Var& sv = shared_upd[size_t(s)].first;
    const Var& final_value = res[size_t(info.n_traces() + s)];
    out.updates.push_back({sv, final_value});
    // A state advanced by its default update (a random stream drawn in the
    // step) now defaults to the state after the whole loop, so a function
    // compiled without scan's updates still moves the stream past every draw.
    // Weak, as random streams hold theirs: the loop reads the state.
    if (from_default.count(sv.get())) set_default_update(sv, final_value, true);
  }
  return out;
}

}  // namespace theon
