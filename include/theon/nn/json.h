// theon/nn/json.h — a small, safe JSON value for model architectures.
//
// Models save their architecture as JSON (layer class names and configs) next
// to the weights. Files may come from anywhere, so the parser is strict and
// bounded: nesting deeper than `max_depth`, text longer than `max_bytes`,
// malformed numbers, bad escapes, trailing garbage or duplicate keys throw
// JsonError with the byte offset, never crash or allocate without bound.
// Objects keep their keys sorted (std::map), so dump() is deterministic.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace theon::nn {

struct JsonError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;                                    // null
  Json(std::nullptr_t) {}                              // NOLINT
  Json(bool b) : v_(b) {}                              // NOLINT
  Json(int v) : v_(double(v)) {}                       // NOLINT
  Json(int64_t v) : v_(double(v)) {}                   // NOLINT
  Json(double v) : v_(v) {}                            // NOLINT
  Json(const char* s) : v_(std::string(s)) {}          // NOLINT
  Json(std::string s) : v_(std::move(s)) {}            // NOLINT
  Json(Array a) : v_(std::make_shared<Array>(std::move(a))) {}    // NOLINT
  Json(Object o) : v_(std::make_shared<Object>(std::move(o))) {}  // NOLINT
  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }
  // A JSON array of integers.
  static Json ints(const std::vector<int64_t>& v);

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_number() const { return v_.index() == 2; }
  bool is_string() const { return v_.index() == 3; }
  bool is_array() const { return v_.index() == 4; }
  bool is_object() const { return v_.index() == 5; }

  // Typed access; a wrong type throws JsonError naming `what` and the type found.
  bool as_bool(const std::string& what = "value") const;
  double as_double(const std::string& what = "value") const;
  int64_t as_int(const std::string& what = "value") const;  // must be integral
  const std::string& as_string(const std::string& what = "value") const;
  const Array& as_array(const std::string& what = "value") const;
  const Object& as_object(const std::string& what = "value") const;
  std::vector<int64_t> as_ints(const std::string& what = "value") const;

  // Object access: at() throws naming the missing key; get() returns `dflt`.
  bool has(const std::string& key) const;
  const Json& at(const std::string& key) const;
  Json get(const std::string& key, Json dflt) const;
  // Sets a key of an object (a null value becomes an object first).
  Json& set(const std::string& key, Json value);
  // Appends to an array (a null value becomes an array first).
  Json& push(Json value);

  const char* type_name() const;
  // Compact text (indent < 0) or pretty-printed with `indent` spaces.
  std::string dump(int indent = -1) const;

 private:
  void dump_to(std::string& out, int indent, int level) const;
  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<Array>, std::shared_ptr<Object>> v_;
};

struct JsonLimits {
  int max_depth = 64;
  size_t max_bytes = size_t(16) << 20;
};

// Parses JSON text; throws JsonError ("[json] ... at byte N") on anything malformed.
Json parse_json(const std::string& text, const JsonLimits& limits = {});

}  // namespace theon::nn
