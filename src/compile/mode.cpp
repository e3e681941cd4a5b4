// Modes: from a name (and config.optimizer*) to the rewrites that run and the
// checks a call makes.
#include "theon/compile/mode.h"

#include <sstream>
#include <stdexcept>

#include "theon/config.h"

namespace theon {

namespace {

std::vector<std::string> split_colon(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ':'))
    if (!item.empty()) out.push_back(item);
  return out;
}


// The query of an optimizer name (config.optimizer's values).
RewriteQuery optimizer_query(const std::string& optimizer) {
  RewriteQuery q;
  if (optimizer == "fast_run" || optimizer == "o4") q.include = {kFastRun};
  else if (optimizer == "fast_compile" || optimizer == "o1") q.include = {kFastCompile};
  else if (optimizer == "merge") q.include = {"merge"};
  else if (optimizer == "None" || optimizer == "none" || optimizer.empty()) q.include = {};
  else
    throw std::invalid_argument("optimizer: unknown optimizer '" + optimizer +
                                "' (expected fast_run, fast_compile, merge or None)");
  return q;
}

}  // namespace

const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names{"FAST_RUN", "FAST_COMPILE", "Mode", "DebugMode", "DEBUG_MODE",
                                              "NanGuardMode", "None"};
  return names;
}

Mode Mode::including(const std::vector<std::string>& tags) const {
  Mode m = *this;
  m.include_.insert(m.include_.end(), tags.begin(), tags.end());
  return m;
}
Mode Mode::excluding(const std::vector<std::string>& tags) const {
  Mode m = *this;
  m.exclude_.insert(m.exclude_.end(), tags.begin(), tags.end());
  return m;
}
Mode Mode::requiring(const std::vector<std::string>& tags) const {
  Mode m = *this;
  m.require_.insert(m.require_.end(), tags.begin(), tags.end());
  return m;
}

ResolvedMode resolve_mode(const Mode& mode) {
  const Config& cfg = config();
  std::string name = mode.name().empty() ? cfg.mode : mode.name();
  ResolvedMode r;
  if (name == "FAST_RUN" || name == "Mode") {
    r.name = "FAST_RUN";
    r.query = optimizer_query(cfg.optimizer);
  } else if (name == "FAST_COMPILE") {
    r.name = "FAST_COMPILE";
    r.query = optimizer_query("fast_compile");
  } else if (name == "None") {
    r.name = "None";
  } else if (name == "DebugMode" || name == "DEBUG_MODE") {
    r.name = "DebugMode";
    r.query = optimizer_query(cfg.optimizer);
    r.debug = true;
  } else if (name == "NanGuardMode") {
    r.name = "NanGuardMode";
    r.query = optimizer_query(cfg.optimizer);
    r.nan_guard = true;
  } else {
    std::string known;
    for (const auto& n : mode_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("mode: unknown mode '" + name + "' (expected one of " + known + ")");
  }
  auto add_all = [](std::set<std::string>& s, const std::vector<std::string>& v) { s.insert(v.begin(), v.end()); };
  if (r.name != "None") {
    add_all(r.query.include, split_colon(cfg.optimizer_including));
    add_all(r.query.include, mode.included());
  }
  add_all(r.query.exclude, split_colon(cfg.optimizer_excluding));
  add_all(r.query.exclude, mode.excluded());
  add_all(r.query.require, split_colon(cfg.optimizer_requiring));
  add_all(r.query.require, mode.required());
  return r;
}

}  // namespace theon
