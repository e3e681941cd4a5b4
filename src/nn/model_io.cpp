// Model architecture JSON and saving/loading through the safe model file.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "theon/graph/shared.h"
#include "theon/nn/model.h"
#include "theon/nn/serialization.h"

namespace theon::nn {

namespace {

constexpr const char* kModelFormat = "theon.nn.model";
constexpr const char* kWeightsFormat = "theon.nn.weights";

Json input_json(const Var& v) {
  std::vector<int64_t> shape(v.type().shape.begin() + 1, v.type().shape.end());
  return Json::object().set("shape", Json::ints(shape)).set("dtype", std::string(dtype_name(v.dtype()))).set("name", v.name());
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::vector<NamedArray> read_arrays(const std::string& path, std::string* metadata) {
  if (ends_with(path, ".npz")) return load_npz(path);
  ModelFile f = load_model_file(path);
  if (metadata) *metadata = f.metadata;
  return f.arrays;
}

// Assigns every variable its array by name; checks all first so a failure changes nothing.
void assign_by_name(const std::vector<Var>& vars, const std::vector<NamedArray>& arrays, const std::string& path,
                    const char* what) {
  std::map<std::string, const Array*> by_name;
  for (const auto& a : arrays) by_name[a.name] = &a.value;
  std::vector<std::pair<Var, Array>> todo;
  for (const auto& v : vars) {
    auto it = by_name.find(v.name());
    if (it == by_name.end())
      throw std::runtime_error("'" + path + "': no " + what + " named '" + v.name() + "' in the file");
    Array cur = get_value(v, true);
    if (it->second->shape() != cur.shape())
      throw std::runtime_error("'" + path + "': " + what + " '" + v.name() + "' has shape " +
                               TensorType{cur.dtype(), cur.shape()}.str() + " in the model but " +
                               TensorType{it->second->dtype(), it->second->shape()}.str() + " in the file");
    todo.emplace_back(v, it->second->dtype() == cur.dtype() ? it->second->copy() : it->second->astype(cur.dtype()));
  }
  for (auto& [v, a] : todo) set_value(v, a, true);
}

}  // namespace

Json Model::to_json() const {
  Json layers = Json::array(), nodes = Json::array(), ins = Json::array();
  for (const auto& l : layers_) layers.push(layer_to_json(*l));
  for (const auto& n : nodes_) {
    size_t li = size_t(std::find(layers_.begin(), layers_.end(), n.layer) - layers_.begin());
    std::vector<int64_t> ids(n.inputs.begin(), n.inputs.end());
    nodes.push(Json::object().set("layer", int64_t(li)).set("inputs", Json::ints(ids)));
  }
  for (const auto& v : inputs_) ins.push(input_json(v));
  Json cfg = Json::object().set("name", name_).set("layers", layers).set("nodes", nodes).set("inputs", ins);
  return Json::object().set("class_name", "Model").set("config", cfg);
}

Json Sequential::to_json() const {
  Json layers = Json::array();
  for (const auto& l : layers_) layers.push(layer_to_json(*l));
  Json cfg = Json::object().set("name", name_).set("layers", layers);
  if (built()) cfg.set("input", input_json(inputs_[0]));
  return Json::object().set("class_name", "Sequential").set("config", cfg);
}

ModelPtr model_from_json(const Json& j) {
  const std::string& cls = j.at("class_name").as_string("class_name");
  const Json& cfg = j.at("config");
  std::vector<LayerPtr> layers;
  for (const auto& lj : cfg.at("layers").as_array("layers")) layers.push_back(layer_from_json(lj));
  std::string name = cfg.get("name", "model").as_string("name");
  auto input_of = [](const Json& ij) {
    return Input(ij.at("shape").as_ints("input shape"), dtype_from_name(ij.get("dtype", "float32").as_string("dtype")),
                 ij.get("name", "input").as_string("input name"));
  };
  if (cls == "Sequential") {
    auto m = std::make_shared<Sequential>(layers, name);
    if (cfg.has("input")) {
      Var in = input_of(cfg.at("input"));
      m->build(std::vector<int64_t>(in.type().shape.begin() + 1, in.type().shape.end()), in.dtype());
    }
    return m;
  }
  if (cls != "Model") throw std::invalid_argument("[model_from_json] unknown model class '" + cls + "'");
  std::vector<Var> t;
  for (const auto& ij : cfg.at("inputs").as_array("inputs")) t.push_back(input_of(ij));
  std::vector<Var> inputs = t;
  if (inputs.empty()) throw std::invalid_argument("[model_from_json] a Model needs inputs");
  const auto& nodes = cfg.at("nodes").as_array("nodes");
  if (nodes.empty()) throw std::invalid_argument("[model_from_json] a Model needs at least one layer call");
  for (const auto& nj : nodes) {
    int64_t li = nj.at("layer").as_int("node layer");
    if (li < 0 || size_t(li) >= layers.size()) throw std::invalid_argument("[model_from_json] node refers to a missing layer");
    std::vector<Var> in;
    for (int64_t id : nj.at("inputs").as_ints("node inputs")) {
      if (id < 0 || size_t(id) >= t.size())
        throw std::invalid_argument("[model_from_json] node input " + std::to_string(id) + " is not defined before it");
      in.push_back(t[size_t(id)]);
    }
    t.push_back((*layers[size_t(li)])(in));
  }
  return std::make_shared<Model>(inputs, t.back(), name);
}

void Model::save_weights(const std::string& path) const {
  std::vector<NamedArray> arrays;
  for (const auto& w : weights()) arrays.push_back({w.name(), get_value(w, true)});
  if (ends_with(path, ".npz")) {
    save_npz(path, arrays);
    return;
  }
  Json meta = Json::object().set("format", kWeightsFormat).set("version", 1);
  save_model_file(path, meta.dump(), arrays);
}

void Model::load_weights(const std::string& path) {
  if (!built()) throw std::logic_error("[load_weights] build the model first (call it, build(), or load_model)");
  auto ws = weights();
  auto arrays = read_arrays(path, nullptr);
  // By name when every weight is there; otherwise, as Keras does for a model
  // rebuilt with other layer names, by position when the file holds exactly
  // one array per weight in the model's order.
  std::map<std::string, int> names;
  for (const auto& a : arrays) names[a.name]++;
  bool all_named = true;
  for (const auto& w : ws) all_named = all_named && names.count(w.name());
  if (!all_named && arrays.size() == ws.size()) {
    bool shapes_match = true;
    for (size_t i = 0; i < ws.size(); ++i) shapes_match = shapes_match && arrays[i].value.shape() == get_value(ws[i], true).shape();
    if (shapes_match) {
      for (size_t i = 0; i < ws.size(); ++i) arrays[i].name = ws[i].name();
    }
  }
  assign_by_name(ws, arrays, path, "weight");
}

void Model::save(const std::string& path, bool include_optimizer) const {
  if (!built()) throw std::logic_error("[save] the model is not built yet (no input shape); fit, build or call it first");
  Json meta = Json::object().set("format", kModelFormat).set("version", 1).set("model", to_json());
  std::vector<NamedArray> arrays;
  for (const auto& w : weights()) arrays.push_back({w.name(), get_value(w, true)});
  if (compiled()) {
    Json metrics = Json::array();
    for (const auto& m : metric_names_) metrics.push(m);
    meta.set("compile", Json::object()
                            .set("loss", loss_.name)
                            .set("from_logits", loss_.from_logits)
                            .set("delta", loss_.delta)
                            .set("metrics", metrics));
    if (include_optimizer) {
      Json cfg = Json::object();
      for (const auto& [k, v] : optimizer_->config()) cfg.set(k, v);
      meta.set("optimizer", Json::object().set("name", optimizer_->name()).set("config", cfg));
      for (const auto& s : optimizer_->state()) arrays.push_back({"optimizer/" + s.name(), get_value(s, true)});
    }
  }
  save_model_file(path, meta.dump(2), arrays);
}

ModelPtr load_model(const std::string& path) {
  ModelFile f = load_model_file(path);
  try {
    Json meta = parse_json(f.metadata);
    if (meta.get("format", "").as_string("format") != kModelFormat)
      throw std::runtime_error("not a theon.nn model (format '" + meta.get("format", "").dump() +
                               "'; weights-only files load with load_weights)");
    ModelPtr m = model_from_json(meta.at("model"));
    if (!m->built()) throw std::runtime_error("the saved model has no input shape");
    assign_by_name(m->weights(), f.arrays, path, "weight");
    if (meta.has("compile") && meta.has("optimizer")) {
      const Json& c = meta.at("compile");
      LossSpec loss = loss_by_name(c.at("loss").as_string("loss"), c.get("from_logits", false).as_bool("from_logits"));
      loss.delta = c.get("delta", 1.0).as_double("delta");
      std::vector<std::string> metrics;
      for (const auto& mj : c.get("metrics", Json::array()).as_array("metrics")) metrics.push_back(mj.as_string("metric"));
      std::map<std::string, double> ocfg;
      for (const auto& [k, v] : meta.at("optimizer").get("config", Json::object()).as_object("optimizer config"))
        ocfg[k] = v.as_double(k);
      m->compile(make_optimizer(meta.at("optimizer").at("name").as_string("optimizer name"), ocfg), loss, metrics);
      // Creating the slots of every parameter (Keras' optimizer.build) lets the saved state fill them by name.
      bool has_state = false;
      for (const auto& a : f.arrays) has_state = has_state || a.name.rfind("optimizer/", 0) == 0;
      if (has_state) {
        m->optimizer()->build(m->params());
        std::vector<NamedArray> st;
        for (const auto& a : f.arrays)
          if (a.name.rfind("optimizer/", 0) == 0) st.push_back({a.name.substr(10), a.value});
        assign_by_name(m->optimizer()->state(), st, path, "optimizer state");
      }
    }
    return m;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (msg.find(path) != std::string::npos) throw std::runtime_error(msg);
    throw std::runtime_error("theon model file '" + path + "': " + msg);
  }
}

}  // namespace theon::nn
