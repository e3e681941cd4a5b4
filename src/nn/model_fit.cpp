// Model::fit, evaluate, predict and train_on_batch: the minibatch loops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

#include "theon/nn/model.h"
#include "theon/nn/progress.h"

namespace theon::nn {

namespace {

// Rows [start, stop) of `a` (C-contiguous), in the order of `perm` when given.
Array rows(const Array& a, const std::vector<int64_t>* perm, int64_t start, int64_t stop) {
  if (!perm) return a.slice(0, start, stop, 1);
  Shape shape = a.shape();
  shape[0] = stop - start;
  Array out = Array::empty(a.dtype(), shape);
  size_t row = a.shape()[0] ? a.nbytes() / size_t(a.shape()[0]) : 0;
  const char* src = static_cast<const char*>(a.data());
  char* dst = static_cast<char*>(out.data());
  for (int64_t i = start; i < stop; ++i) std::memcpy(dst + size_t(i - start) * row, src + size_t((*perm)[size_t(i)]) * row, row);
  return out;
}

double scalar_of(const Array& a) { return a.to_double_vector().at(0); }

}  // namespace

std::vector<Array> Model::prepare_inputs(const std::vector<Array>& x, const char* who) const {
  if (x.size() != inputs_.size())
    throw std::invalid_argument(std::string("[") + who + "] the model has " + std::to_string(inputs_.size()) +
                                " input(s), got " + std::to_string(x.size()) + " array(s)");
  std::vector<Array> r;
  for (size_t i = 0; i < x.size(); ++i) {
    const TensorType& t = inputs_[i].type();
    if (x[i].ndim() != t.ndim())
      throw std::invalid_argument(std::string("[") + who + "] input " + std::to_string(i) + ": expected an array of rank " +
                                  std::to_string(t.ndim()) + " (" + t.str() + "), got rank " + std::to_string(x[i].ndim()));
    for (int d = 1; d < t.ndim(); ++d)
      if (t.shape[size_t(d)] >= 0 && t.shape[size_t(d)] != x[i].shape()[size_t(d)])
        throw std::invalid_argument(std::string("[") + who + "] input " + std::to_string(i) + ": expected samples of " +
                                    t.str() + ", got an array with dim " + std::to_string(d) + " = " +
                                    std::to_string(x[i].shape()[size_t(d)]));
    if (i > 0 && x[i].shape()[0] != x[0].shape()[0])
      throw std::invalid_argument(std::string("[") + who + "] input arrays have different numbers of samples");
    r.push_back(x[i].dtype() == t.dtype ? x[i].contiguous() : x[i].contiguous(t.dtype));
  }
  if (r[0].shape()[0] == 0) throw std::invalid_argument(std::string("[") + who + "] no samples");
  return r;
}

Array Model::prepare_targets(const Array& y, const char* who) {
  Var t = target_var();
  if (y.ndim() != t.ndim())
    throw std::invalid_argument(std::string("[") + who + "] targets for loss '" + loss_.name + "' must have rank " +
                                std::to_string(t.ndim()) + ", got shape of rank " + std::to_string(y.ndim()));
  return y.dtype() == t.dtype() ? y.contiguous() : y.contiguous(t.dtype());
}

Logs Model::train_on_batch(const std::vector<Array>& x, const Array& y) {
  build_for(x);
  auto xs = prepare_inputs(x, "train_on_batch");
  Array ys = prepare_targets(y, "train_on_batch");
  std::vector<Array> args = xs;
  args.push_back(ys);
  auto outs = (*train_function())(args);
  Logs logs{{"loss", scalar_of(outs[0])}};
  for (size_t i = 0; i < metric_keys_.size(); ++i) logs[metric_keys_[i]] = scalar_of(outs[i + 1]);
  return logs;
}

Logs Model::run_eval(const std::vector<Array>& xs, const Array& ys, int64_t batch_size) {
  auto fn = test_function();
  int64_t n = xs[0].shape()[0];
  if (ys.shape()[0] != n)
    throw std::invalid_argument("[evaluate] " + std::to_string(n) + " samples but " + std::to_string(ys.shape()[0]) +
                                " targets");
  std::vector<double> sums(1 + metric_keys_.size(), 0.0);
  for (int64_t s = 0; s < n; s += batch_size) {
    int64_t e = std::min(n, s + batch_size);
    std::vector<Array> args;
    for (const auto& a : xs) args.push_back(rows(a, nullptr, s, e));
    args.push_back(rows(ys, nullptr, s, e));
    auto outs = (*fn)(args);
    for (size_t i = 0; i < sums.size(); ++i) sums[i] += scalar_of(outs[i]) * double(e - s);
  }
  Logs logs{{"loss", sums[0] / double(n)}};
  for (size_t i = 0; i < metric_keys_.size(); ++i) logs[metric_keys_[i]] = sums[i + 1] / double(n);
  return logs;
}

Logs Model::evaluate(const std::vector<Array>& x, const Array& y, int64_t batch_size, int verbose) {
  if (batch_size <= 0) throw std::invalid_argument("[evaluate] batch_size must be positive");
  build_for(x);
  auto xs = prepare_inputs(x, "evaluate");
  Array ys = prepare_targets(y, "evaluate");
  ProgressBar pb(0, 1, 1, 0);
  Logs logs = run_eval(xs, ys, batch_size);
  if (verbose) std::printf("evaluate: %lld samples in %.1fs%s\n", static_cast<long long>(xs[0].shape()[0]), pb.elapsed(),
                           ProgressBar::format_logs(logs).c_str());
  return logs;
}

Array Model::predict(const std::vector<Array>& x, int64_t batch_size) {
  if (batch_size <= 0) throw std::invalid_argument("[predict] batch_size must be positive");
  build_for(x);
  auto xs = prepare_inputs(x, "predict");
  auto fn = predict_function();
  int64_t n = xs[0].shape()[0];
  Array out;
  size_t row = 0;
  for (int64_t s = 0; s < n; s += batch_size) {
    int64_t e = std::min(n, s + batch_size);
    std::vector<Array> args;
    for (const auto& a : xs) args.push_back(rows(a, nullptr, s, e));
    Array b = (*fn)(args)[0].contiguous();
    if (!out.defined()) {
      Shape shape = b.shape();
      shape[0] = n;
      out = Array::empty(b.dtype(), shape);
      row = (e - s) ? b.nbytes() / size_t(e - s) : 0;
    }
    std::memcpy(static_cast<char*>(out.data()) + size_t(s) * row, b.data(), b.nbytes());
  }
  return out;
}

History Model::fit(const std::vector<Array>& x, const Array& y, const FitOptions& o) {
  if (o.batch_size <= 0) throw std::invalid_argument("[fit] batch_size must be positive, got " + std::to_string(o.batch_size));
  if (o.epochs < 0) throw std::invalid_argument("[fit] epochs must be >= 0");
  if (!(o.validation_split >= 0 && o.validation_split < 1)) throw std::invalid_argument("[fit] validation_split must be in [0, 1)");
  build_for(x);
  if (!compiled()) throw std::logic_error("[" + class_name() + " '" + name_ + "'] call compile() before fit()");
  auto xs = prepare_inputs(x, "fit");
  Array ys = prepare_targets(y, "fit");
  int64_t n = xs[0].shape()[0];
  if (ys.shape()[0] != n)
    throw std::invalid_argument("[fit] " + std::to_string(n) + " samples but " + std::to_string(ys.shape()[0]) + " targets");
  std::vector<Array> vx;
  Array vy;
  if (o.validation_data) {
    vx = prepare_inputs(o.validation_data->first, "fit validation_data");
    vy = prepare_targets(o.validation_data->second, "fit validation_data");
  } else if (o.validation_split > 0) {
    int64_t nv = int64_t(std::floor(double(n) * o.validation_split));
    if (nv <= 0 || nv >= n) throw std::invalid_argument("[fit] validation_split leaves no training or validation samples");
    for (auto& a : xs) {
      vx.push_back(a.slice(0, n - nv, n, 1));
      a = a.slice(0, 0, n - nv, 1);
    }
    vy = ys.slice(0, n - nv, n, 1);
    ys = ys.slice(0, 0, n - nv, 1);
    n -= nv;
  }
  auto fn = train_function();
  if (!vx.empty()) test_function();

  std::vector<CallbackPtr> cbs = o.callbacks;
  for (auto& cb : cbs) cb->set_model(this);
  stop_training = false;
  history_ = History{};
  Logs logs;
  for (auto& cb : cbs) cb->on_train_begin(logs);
  std::mt19937_64 rng(o.seed ? o.seed : next_seed());
  std::vector<int64_t> perm(static_cast<size_t>(n));
  int64_t steps = (n + o.batch_size - 1) / o.batch_size;  // the last partial batch is a step of its own
  for (int epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
    Logs epoch_logs;
    for (auto& cb : cbs) cb->on_epoch_begin(epoch, epoch_logs);
    std::iota(perm.begin(), perm.end(), int64_t(0));
    if (o.shuffle) std::shuffle(perm.begin(), perm.end(), rng);
    ProgressBar pb(epoch, o.epochs, steps, o.verbose == 1 ? -1 : 0);
    std::vector<double> sums(1 + metric_keys_.size(), 0.0);
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      int64_t s = step * o.batch_size, e = std::min(n, s + o.batch_size);
      Logs blogs{{"batch", double(step)}, {"size", double(e - s)}};
      for (auto& cb : cbs) cb->on_batch_begin(step, blogs);
      std::vector<Array> args;
      for (const auto& a : xs) args.push_back(rows(a, o.shuffle ? &perm : nullptr, s, e));
      args.push_back(rows(ys, o.shuffle ? &perm : nullptr, s, e));
      auto outs = (*fn)(args);
      seen += e - s;
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += scalar_of(outs[i]) * double(e - s);
      epoch_logs = Logs{{"loss", sums[0] / double(seen)}};
      for (size_t i = 0; i < metric_keys_.size(); ++i) epoch_logs[metric_keys_[i]] = sums[i + 1] / double(seen);
      for (auto& cb : cbs) cb->on_batch_end(step, epoch_logs);
      if (o.verbose == 1) pb.update(step + 1, seen, epoch_logs);
    }
    if (!vx.empty())
      for (const auto& [k, v] : run_eval(vx, vy, std::max<int64_t>(o.batch_size, 256))) epoch_logs["val_" + k] = v;
    if (o.verbose) pb.finish(seen, epoch_logs);
    epoch_logs["epoch_seconds"] = pb.elapsed();
    for (auto& cb : cbs) cb->on_epoch_end(epoch, epoch_logs);
    history_.epochs.push_back(epoch);
    for (const auto& [k, v] : epoch_logs)
      if (k != "epoch_seconds") history_.history[k].push_back(v);
    history_.history["epoch_seconds"].push_back(epoch_logs["epoch_seconds"]);
    logs = epoch_logs;
    if (stop_training) break;
  }
  for (auto& cb : cbs) cb->on_train_end(logs);
  return history_;
}

}  // namespace theon::nn
