// Helpers shared by the layer source files (not installed).
#pragma once
#include <array>
#include <string>

#include "theon/nn/layer.h"

namespace theon::nn {

void add_layer_factory(const std::string& class_name, LayerFactory factory);
inline Json pair_json(const std::array<int64_t, 2>& a) { return Json::ints({a[0], a[1]}); }
inline std::array<int64_t, 2> json_pair(const Json& j, const char* what) {
  auto v = j.as_ints(what);
  if (v.size() != 2) throw JsonError(std::string("[json] ") + what + ": expected 2 integers");
  return {v[0], v[1]};
}
// A config's "name" ("" when absent).
inline std::string cfg_name(const Json& c) { return c.get("name", "").as_string("name"); }

}  // namespace theon::nn
