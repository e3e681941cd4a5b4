#include "theon/config.h"

#include "theon/backend/device.h"
#include "theon/runtime/thread_pool.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace theon {

namespace {
bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "True" || v == "true" || v == "1") return true;
  if (v == "False" || v == "false" || v == "0") return false;
  throw std::invalid_argument("config." + key + ": expected True or False, got '" + v + "'");
}
}  // namespace

void Config::set(const std::string& key, const std::string& value) {
  if (key == "floatX") {
    DType d = value == "floatX" ? floatX : dtype_from_name(value);
    if (!is_float(d))
      throw std::invalid_argument("config.floatX: expected a float dtype, got '" + value + "'");
    floatX = d;
  } else if (key == "mode") {
    if (value != "FAST_RUN" && value != "FAST_COMPILE" && value != "DebugMode" && value != "Mode" &&
        value != "DEBUG_MODE" && value != "NanGuardMode" && value != "None")
      throw std::invalid_argument("config.mode: unknown mode '" + value + "'");
    mode = value;
  } else if (key == "optimizer") {
    if (value != "fast_run" && value != "fast_compile" && value != "merge" && value != "None" && value != "o1" &&
        value != "o4")
      throw std::invalid_argument("config.optimizer: expected fast_run, fast_compile, merge or None, got '" + value +
                                  "'");
    optimizer = value;
  } else if (key == "optimizer_including") {
    optimizer_including = value;
  } else if (key == "optimizer_excluding") {
    optimizer_excluding = value;
  } else if (key == "optimizer_requiring") {
    optimizer_requiring = value;
  } else if (key == "device") {
    try {
      parse_device(value);  // whether it can be used is checked when a function is compiled for it
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("config.") + e.what());
    }
    device = value;
  } else if (key == "allow_cpu_fallback") {
    allow_cpu_fallback = parse_bool(key, value);
  } else if (key == "float32_matmul_precision") {
    if (value != "highest" && value != "high" && value != "medium")
      throw std::invalid_argument(
          "config.float32_matmul_precision: expected highest, high or medium, got '" + value + "'");
    float32_matmul_precision = value;
  } else if (key == "profile") {
    profile = parse_bool(key, value);
  } else if (key == "compute_test_value") {
    compute_test_value = value != "off";
  } else if (key == "on_unused_input") {
    if (value != "raise" && value != "warn" && value != "ignore")
      throw std::invalid_argument("config.on_unused_input: expected raise, warn or ignore, got '" +
                                  value + "'");
    on_unused_input = value;
  } else if (key == "num_threads") {
    int n = 0;
    try {
      n = std::stoi(value);
    } catch (const std::exception&) {
      throw std::invalid_argument("config.num_threads: expected a non-negative integer, got '" + value + "'");
    }
    if (n < 0) throw std::invalid_argument("config.num_threads: expected a non-negative integer, got '" + value + "'");
    num_threads = n;
    apply_num_threads();
  } else {
    throw std::invalid_argument("unknown config option '" + key + "'");
  }
}

std::string Config::get(const std::string& key) const {
  if (key == "floatX") return std::string(dtype_name(floatX));
  if (key == "mode") return mode;
  if (key == "device") return device;
  if (key == "optimizer") return optimizer;
  if (key == "optimizer_including") return optimizer_including;
  if (key == "optimizer_excluding") return optimizer_excluding;
  if (key == "optimizer_requiring") return optimizer_requiring;
  if (key == "allow_cpu_fallback") return allow_cpu_fallback ? "True" : "False";
  if (key == "float32_matmul_precision") return float32_matmul_precision;
  if (key == "profile") return profile ? "True" : "False";
  if (key == "on_unused_input") return on_unused_input;
  if (key == "num_threads") return std::to_string(num_threads);
  throw std::invalid_argument("unknown config option '" + key + "'");
}

void parse_flags(const std::string& flags) {
  std::stringstream ss(flags);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("THEON_FLAGS: expected key=value, got '" + item + "'");
    config().set(item.substr(0, eq), item.substr(eq + 1));
  }
}

Config& config() {
  static Config* cfg = [] {
    auto* c = new Config();
    if (const char* f = std::getenv("THEON_FLAGS")) {
      std::stringstream ss(f);
      std::string item;
      while (std::getline(ss, item, ',')) {
        auto eq = item.find('=');
        if (eq != std::string::npos) c->set(item.substr(0, eq), item.substr(eq + 1));
      }
    }
    return c;
  }();
  return *cfg;
}

}  // namespace theon
