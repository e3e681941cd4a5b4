// The Scan op: layout checks, output types and shapes. Evaluation lives in
// scan_run.cpp, the builder in scan_build.cpp, the gradient in scan_grad.cpp.
#include <algorithm>
#include <stdexcept>

#include "theon/ops/scan.h"
#include "theon/ops/shape.h"

namespace theon {

int ScanInfo::n_inner_seq_inputs() const {
  int n = 0;
  for (const auto& t : seq_taps) n += int(t.size());
  return n;
}

int ScanInfo::n_inner_rec_inputs() const {
  int n = 0;
  for (const auto& t : rec_taps) n += int(t.size());
  return n;
}

std::string ScanInfo::str() const {
  auto taps = [](const std::vector<std::vector<int>>& v) {
    std::string s = "[";
    for (const auto& t : v) {
      s += "(";
      for (int k : t) s += std::to_string(k) + ",";
      s += ")";
    }
    return s + "]";
  };
  std::string s = "seqs=" + taps(seq_taps) + " recs=" + taps(rec_taps) + " nit=" + std::to_string(n_nit) +
                  " shared=" + std::to_string(n_shared) + " nonseq=" + std::to_string(n_nonseq) +
                  (has_until ? " until" : "") + " store=(";
  for (auto k : store_steps) s += std::to_string(k) + ",";
  return s + ") trunc=" + std::to_string(truncate_gradient);
}

std::string ScanInfo::output_desc(int trace) const {
  int j = size_t(trace) < user_index.size() ? user_index[size_t(trace)] : trace;
  if (j < 0) return "the state of updated shared variable " + std::to_string(-1 - j);
  return "output " + std::to_string(j);
}

Scan::Scan(ScanInfo info, std::vector<Var> inner_inputs, std::vector<Var> inner_outputs)
    : info_(std::move(info)), inner_inputs_(std::move(inner_inputs)), inner_outputs_(std::move(inner_outputs)),
      id_(next_variable_id()) {
  if (info_.store_steps.empty()) info_.store_steps.assign(size_t(info_.n_traces()), 0);
  size_t n_in = size_t(info_.n_inner_seq_inputs() + info_.n_inner_rec_inputs() + info_.n_nonseq);
  size_t n_out = size_t(info_.n_traces() + (info_.has_until ? 1 : 0));
  if (inner_inputs_.size() != n_in || inner_outputs_.size() != n_out ||
      info_.store_steps.size() != size_t(info_.n_traces()))
    throw std::logic_error("[scan] internal error: inner graph does not match the layout " + info_.str());
}

std::shared_ptr<Scan> Scan::with_store_steps(std::vector<int64_t> store) const {
  ScanInfo info = info_;
  info.store_steps = std::move(store);
  return std::make_shared<Scan>(std::move(info), inner_inputs_, inner_outputs_);
}

static std::vector<int64_t> drop_first(const std::vector<int64_t>& s) {
  return std::vector<int64_t>(s.begin() + (s.empty() ? 0 : 1), s.end());
}

std::vector<TensorType> Scan::infer_type(const std::vector<Var>& in) const {
  const ScanInfo& I = info_;
  size_t expected = size_t(1 + I.n_seq() + I.n_rec() + I.n_nonseq);
  std::string who = "[" + name() + "] ";
  if (in.size() != expected)
    throw std::invalid_argument(who + "expected " + std::to_string(expected) + " inputs, got " +
                                std::to_string(in.size()));
  if (in[0].ndim() != 0 || !is_integer(in[0].dtype()))
    throw std::invalid_argument(who + "n_steps must be an integer scalar, got " + in[0].type().str());
  size_t inner = 0;
  for (int i = 0; i < I.n_seq(); ++i) {
    const Var& x = in[size_t(1 + i)];
    const Var& slice = inner_inputs_[inner];
    if (x.dtype() != slice.dtype() || x.ndim() != slice.ndim() + 1)
      throw std::invalid_argument(who + "sequence " + std::to_string(i) + ": expected " +
                                  std::string(dtype_name(slice.dtype())) + " of rank " +
                                  std::to_string(slice.ndim() + 1) + ", got " + x.type().str());
    inner += I.seq_taps[size_t(i)].size();
  }
  std::vector<TensorType> rec_types, out;
  for (int k = 0; k < I.n_rec(); ++k) {
    const Var& init = in[size_t(I.first_outer_init() + k)];
    const Var& tap = inner_inputs_[inner];
    if (init.dtype() != tap.dtype() || init.ndim() != tap.ndim() + 1)
      throw std::invalid_argument(who + "initial value of " + I.output_desc(k) + ": expected " +
                                  std::string(dtype_name(tap.dtype())) + " of rank " + std::to_string(tap.ndim() + 1) +
                                  ", got " + init.type().str());
    inner += I.rec_taps[size_t(k)].size();
    std::vector<int64_t> s{kUnknownDim};
    for (auto d : drop_first(init.type().shape)) s.push_back(d);
    out.push_back(TensorType(init.dtype(), s));
    rec_types.push_back(TensorType(init.dtype(), drop_first(init.type().shape)));
  }
  for (int m = 0; m < I.n_nonseq; ++m) {
    const Var& v = in[size_t(I.first_outer_nonseq() + m)];
    const Var& p = inner_inputs_[inner + size_t(m)];
    if (v.dtype() != p.dtype() || v.ndim() != p.ndim())
      throw std::invalid_argument(who + "non-sequence " + std::to_string(m) + ": expected " + p.type().str() +
                                  ", got " + v.type().str());
  }
  for (int j = 0; j < I.n_nit; ++j) {
    const Var& o = inner_outputs_[size_t(I.n_rec() + j)];
    std::vector<int64_t> s{kUnknownDim};
    for (auto d : o.type().shape) s.push_back(d);
    out.push_back(TensorType(o.dtype(), s));
  }
  for (int k = I.n_rec() - I.n_shared; k < I.n_rec(); ++k) out.push_back(rec_types[size_t(k)]);
  return out;
}

// Only the final values of shared states have a shape known without running
// the loop (the state's shape); traces depend on the number of steps taken.
std::optional<ShapeExprs> Scan::infer_shape(const ApplyNode&, const ShapeExprs&) const { return std::nullopt; }

std::vector<Var> apply_scan(ScanInfo info, std::vector<Var> inner_inputs, std::vector<Var> inner_outputs,
                            std::vector<Var> outer_inputs) {
  return theon::apply(std::make_shared<Scan>(std::move(info), std::move(inner_inputs), std::move(inner_outputs)),
               std::move(outer_inputs));
}

}  // namespace theon
