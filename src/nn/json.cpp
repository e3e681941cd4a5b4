// The JSON value and its bounded parser (see theon/nn/json.h).
#include "theon/nn/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace theon::nn {

Json Json::ints(const std::vector<int64_t>& v) {
  Array a;
  for (int64_t x : v) a.emplace_back(x);
  return Json(std::move(a));
}

const char* Json::type_name() const {
  static const char* names[] = {"null", "bool", "number", "string", "array", "object"};
  return names[v_.index()];
}

static JsonError type_error(const std::string& what, const char* want, const char* got) {
  return JsonError("[json] " + what + ": expected " + want + ", got " + got);
}

bool Json::as_bool(const std::string& what) const {
  if (!is_bool()) throw type_error(what, "a bool", type_name());
  return std::get<bool>(v_);
}
double Json::as_double(const std::string& what) const {
  if (!is_number()) throw type_error(what, "a number", type_name());
  return std::get<double>(v_);
}
int64_t Json::as_int(const std::string& what) const {
  double d = as_double(what);
  if (std::floor(d) != d || std::fabs(d) > 9007199254740992.0)
    throw JsonError("[json] " + what + ": expected an integer, got " + dump());
  return int64_t(d);
}
const std::string& Json::as_string(const std::string& what) const {
  if (!is_string()) throw type_error(what, "a string", type_name());
  return std::get<std::string>(v_);
}
const Json::Array& Json::as_array(const std::string& what) const {
  if (!is_array()) throw type_error(what, "an array", type_name());
  return *std::get<4>(v_);
}
const Json::Object& Json::as_object(const std::string& what) const {
  if (!is_object()) throw type_error(what, "an object", type_name());
  return *std::get<5>(v_);
}
std::vector<int64_t> Json::as_ints(const std::string& what) const {
  std::vector<int64_t> r;
  for (const auto& e : as_array(what)) r.push_back(e.as_int(what));
  return r;
}

bool Json::has(const std::string& key) const { return is_object() && as_object().count(key) > 0; }
const Json& Json::at(const std::string& key) const {
  const auto& o = as_object("object with key '" + key + "'");
  auto it = o.find(key);
  if (it == o.end()) throw JsonError("[json] missing key '" + key + "'");
  return it->second;
}
Json Json::get(const std::string& key, Json dflt) const { return has(key) ? at(key) : dflt; }

Json& Json::set(const std::string& key, Json value) {
  if (is_null()) v_ = std::make_shared<Object>();
  if (!is_object()) throw type_error("set('" + key + "')", "an object", type_name());
  auto& p = std::get<5>(v_);
  if (p.use_count() > 1) p = std::make_shared<Object>(*p);  // values are copied on write
  (*p)[key] = std::move(value);
  return *this;
}
Json& Json::push(Json value) {
  if (is_null()) v_ = std::make_shared<Array>();
  if (!is_array()) throw type_error("push", "an array", type_name());
  auto& p = std::get<4>(v_);
  if (p.use_count() > 1) p = std::make_shared<Array>(*p);
  p->push_back(std::move(value));
  return *this;
}

static void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void Json::dump_to(std::string& out, int indent, int level) const {
  auto newline = [&](int l) {
    if (indent < 0) return;
    out += '\n';
    out.append(size_t(indent * l), ' ');
  };
  switch (v_.index()) {
    case 0: out += "null"; break;
    case 1: out += std::get<bool>(v_) ? "true" : "false"; break;
    case 2: {
      double d = std::get<double>(v_);
      if (!std::isfinite(d)) throw JsonError("[json] cannot write a non-finite number");
      char buf[40];
      if (std::floor(d) == d && std::fabs(d) < 1e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
      else
        std::snprintf(buf, sizeof buf, "%.17g", d);
      out += buf;
      break;
    }
    case 3: dump_string(out, std::get<std::string>(v_)); break;
    case 4: {
      const auto& a = *std::get<4>(v_);
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += indent < 0 ? ", " : ",";
        newline(level + 1);
        a[i].dump_to(out, indent, level + 1);
      }
      if (!a.empty()) newline(level);
      out += ']';
      break;
    }
    default: {
      const auto& o = *std::get<5>(v_);
      out += '{';
      bool first = true;
      for (const auto& [k, v] : o) {
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        newline(level + 1);
        dump_string(out, k);
        out += ": ";
        v.dump_to(out, indent, level + 1);
      }
      if (!o.empty()) newline(level);
      out += '}';
    }
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

namespace {

// Recursive descent with an explicit depth bound, so hostile nesting fails cleanly.
class Parser {
 public:
  Parser(const std::string& s, const JsonLimits& lim) : s_(s), lim_(lim) {}
  Json parse() {
    skip_ws();
    Json v = value(0);
    skip_ws();
    if (i_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw JsonError("[json] " + msg + " at byte " + std::to_string(i_));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool literal(const char* lit) {
    size_t n = std::char_traits<char>::length(lit);
    if (s_.compare(i_, n, lit) != 0) return false;
    i_ += n;
    return true;
  }
  Json value(int depth) {
    if (depth > lim_.max_depth) fail("nesting deeper than " + std::to_string(lim_.max_depth));
    if (i_ >= s_.size()) fail("unexpected end of input");
    char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json(string());
    if (literal("true")) return Json(true);
    if (literal("false")) return Json(false);
    if (literal("null")) return Json();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail(std::string("unexpected character '") + c + "'");
  }
  Json number() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) fail("malformed number");
    };
    digits();
    if (i_ < s_.size() && s_[i_] == '.') { ++i_; digits(); }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits();
    }
    std::string text = s_.substr(start, i_ - start);
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) fail("number out of range");
    return Json(d);
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) fail("control character in string");
      if (c != '\\') { out += char(c); continue; }
      if (i_ >= s_.size()) fail("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!literal("\\u")) fail("unpaired surrogate");
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default: fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }
  Json array(int depth) {
    ++i_;
    Json::Array a;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') { ++i_; return Json(std::move(a)); }
    while (true) {
      skip_ws();
      a.push_back(value(depth + 1));
      skip_ws();
      if (i_ >= s_.size()) fail("unterminated array");
      if (s_[i_] == ',') { ++i_; continue; }
      if (s_[i_] == ']') { ++i_; return Json(std::move(a)); }
      fail("expected ',' or ']'");
    }
  }
  Json object(int depth) {
    ++i_;
    Json::Object o;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') { ++i_; return Json(std::move(o)); }
    while (true) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string key");
      std::string key = string();
      if (o.count(key)) fail("duplicate key '" + key + "'");
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
      ++i_;
      skip_ws();
      o.emplace(std::move(key), value(depth + 1));
      skip_ws();
      if (i_ >= s_.size()) fail("unterminated object");
      if (s_[i_] == ',') { ++i_; continue; }
      if (s_[i_] == '}') { ++i_; return Json(std::move(o)); }
      fail("expected ',' or '}'");
    }
  }
  const std::string& s_;
  const JsonLimits& lim_;
  size_t i_ = 0;
};

}  // namespace

Json parse_json(const std::string& text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw JsonError("[json] text of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                    std::to_string(limits.max_bytes));
  return Parser(text, limits).parse();
}

}  // namespace theon::nn
