// The Layer base class, regularizers, the registry and functional-API records.
#include "theon/nn/layer.h"

#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "theon/graph/shared.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon::nn {

void register_builtin_layers();  // layers_*.cpp

Var Regularizer::operator()(const Var& w) const {
  Var r;
  if (l1 != 0) r = sum(abs(w)) * l1;
  if (l2 != 0) {
    Var p = sum(sqr(w)) * l2;
    r = r.defined() ? r + p : p;
  }
  return r;
}
Json Regularizer::to_json() const {
  if (!active()) return Json();
  return Json::object().set("l1", l1).set("l2", l2);
}
Regularizer Regularizer::from_json(const Json& j) {
  if (j.is_null()) return {};
  return {j.get("l1", 0.0).as_double("l1"), j.get("l2", 0.0).as_double("l2")};
}

namespace {
std::mutex g_mu;
std::map<std::string, int> g_name_counts;

std::string snake(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      bool boundary = i > 0 && (std::islower(static_cast<unsigned char>(s[i - 1])) ||
                                (i + 1 < s.size() && std::islower(static_cast<unsigned char>(s[i + 1])) &&
                                 std::isupper(static_cast<unsigned char>(s[i - 1]))));
      if (boundary) r += '_';
      r += char(std::tolower(static_cast<unsigned char>(c)));
    } else {
      r += c;
    }
  }
  return r;
}

struct Record {
  std::weak_ptr<VariableNode> out;
  LayerCall call;
};
std::unordered_map<const VariableNode*, Record>& records() {
  static std::unordered_map<const VariableNode*, Record> r;
  return r;
}

std::map<std::string, LayerFactory>& registry() {
  static std::map<std::string, LayerFactory> r;
  return r;
}
void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_layers(); });
}
}  // namespace

const std::string& Layer::name() const {
  if (name_.empty()) {
    std::lock_guard<std::mutex> lock(g_mu);
    std::string base = snake(class_name());
    int n = g_name_counts[base]++;
    name_ = n == 0 ? base : base + "_" + std::to_string(n);
  }
  return name_;
}

std::string Layer::error_prefix() const { return "[" + class_name() + " '" + name() + "']"; }

std::vector<Var> Layer::weights() const {
  std::vector<Var> w = trainable_;
  w.insert(w.end(), non_trainable_.begin(), non_trainable_.end());
  return w;
}

Var Layer::regularization_loss() const {
  Var total;
  for (const auto& [w, reg] : regs_) {
    Var r = reg(w);
    if (r.defined()) total = total.defined() ? total + r : r;
  }
  return total;
}

Json Layer::get_config() const { return Json::object().set("name", name()); }

void Layer::build(const std::vector<TensorType>&) {}

Var Layer::add_weight(const std::string& pname, const std::vector<int64_t>& shape, const Initializer& init,
                      bool trainable, const Regularizer& reg) {
  Var v = shared(init(shape, dtype_, next_seed()), name() + "/" + pname, true);
  (trainable ? trainable_ : non_trainable_).push_back(v);
  if (reg.active()) regs_.emplace_back(v, reg);
  return v;
}

Var Layer::param(const Var& weight) { return reshape(weight, get_value(weight, true).shape()); }

int64_t Layer::static_dim(const TensorType& t, int axis, const char* what) const {
  int nd = t.ndim();
  int a = axis < 0 ? axis + nd : axis;
  if (a < 0 || a >= nd)
    throw std::invalid_argument(error_prefix() + " expected an input with a " + what + " axis (" +
                                std::to_string(axis) + "), got " + t.str());
  int64_t d = t.shape[size_t(a)];
  if (d < 0)
    throw std::invalid_argument(error_prefix() + " needs the static size of the input's " + what +
                                " axis to create its weights, got " + t.str() +
                                "; give the model an Input with a known shape");
  return d;
}

Var Layer::call(const std::vector<Var>& inputs, bool training) {
  if (num_inputs() >= 0 && int(inputs.size()) != num_inputs())
    throw std::invalid_argument(error_prefix() + " expected " + std::to_string(num_inputs()) + " input(s), got " +
                                std::to_string(inputs.size()));
  for (const auto& v : inputs)
    if (!v.defined()) throw std::invalid_argument(error_prefix() + " got an undefined input");
  if (!built_) {
    std::vector<TensorType> types;
    for (const auto& v : inputs) types.push_back(v.type());
    DType d = inputs[0].dtype();
    dtype_ = (d == DType::Float64 || d == DType::Float32) ? d : DType::Float32;
    trainable_.clear();
    non_trainable_.clear();
    regs_.clear();
    build(types);  // a failed build leaves the layer unbuilt
    built_ = true;
  }
  if (training) updates_.clear();
  return forward(inputs, training);
}

Var Layer::operator()(const Var& x) { return (*this)(std::vector<Var>{x}); }

Var Layer::operator()(const std::vector<Var>& xs) {
  Var out = call(xs, false);
  LayerPtr self;
  try {
    self = shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    throw std::invalid_argument(error_prefix() + " a layer used with the functional API must be held by a shared_ptr");
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto& recs = records();
  static size_t prune_at = 256;
  if (recs.size() >= prune_at) {  // drop records of graphs nobody holds any more (amortized)
    for (auto it = recs.begin(); it != recs.end();) it = it->second.out.expired() ? recs.erase(it) : std::next(it);
    prune_at = std::max<size_t>(256, 2 * recs.size());
  }
  recs[out.get()] = Record{out.ptr(), LayerCall{self, xs}};
  return out;
}

const LayerCall* producing_call(const Var& v) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = records().find(v.get());
  if (it == records().end() || it->second.out.lock() != v.ptr()) return nullptr;
  return &it->second.call;
}

void clear_call_records() {
  std::unordered_map<const VariableNode*, Record> dead;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    dead.swap(records());
  }
}  // the layers are released here, outside the lock

Var UnaryLayer::forward(const std::vector<Var>& in, bool training) { return forward1(in.at(0), training); }

Var Input(const std::vector<int64_t>& shape, DType dtype, const std::string& name) {
  std::vector<int64_t> full{-1};
  for (int64_t d : shape) {
    if (d < -1 || d == 0) throw std::invalid_argument("[Input] dimensions must be positive (or -1), got " + std::to_string(d));
    full.push_back(d);
  }
  return tensor(dtype, full, name.empty() ? "input" : name);
}

void add_layer_factory(const std::string& class_name, LayerFactory factory) {
  std::lock_guard<std::mutex> lock(g_mu);
  registry()[class_name] = std::move(factory);
}

void register_layer(const std::string& class_name, LayerFactory factory) {
  ensure_builtins();
  add_layer_factory(class_name, std::move(factory));
}

LayerPtr layer_from_config(const std::string& class_name, const Json& config) {
  ensure_builtins();
  LayerFactory f;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = registry().find(class_name);
    if (it == registry().end()) throw std::invalid_argument("[layer_from_config] unknown layer class '" + class_name + "'");
    f = it->second;
  }
  try {
    return f(config);
  } catch (const JsonError& e) {
    throw std::invalid_argument("[layer_from_config] bad config of " + class_name + ": " + e.what());
  }
}

Json layer_to_json(const Layer& layer) {
  return Json::object().set("class_name", layer.class_name()).set("config", layer.get_config());
}

LayerPtr layer_from_json(const Json& j) {
  return layer_from_config(j.at("class_name").as_string("class_name"), j.at("config"));
}

std::vector<std::string> registered_layers() {
  ensure_builtins();
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<std::string> r;
  for (const auto& [k, v] : registry()) r.push_back(k);
  return r;
}

}  // namespace theon::nn
