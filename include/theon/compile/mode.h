// theon/compile/mode.h — compilation modes (Theano's Mode, FAST_RUN, ...).
//
// A mode names how a function is compiled:
//   FAST_RUN      every rewrite phase (config.optimizer, default "fast_run")
//   FAST_COMPILE  merge and constant folding only
//   None          no rewrites at all (the graph runs as written)
//   DebugMode     FAST_RUN, and every call re-evaluates each replacement the
//                 optimizer made, before and after, on the call's inputs;
//                 a mismatch raises naming the rewrite
//   NanGuardMode  FAST_RUN, and every call stops at the first op whose output
//                 holds NaN or Inf, naming the op
// `including`/`excluding`/`requiring` adjust the rewrites by name or tag;
// config.optimizer_including/excluding/requiring (colon-separated) apply to
// every mode.
#pragma once
#include <string>
#include <vector>

#include "theon/rewrite/rewriter.h"

namespace theon {

class Mode {
 public:
  Mode() = default;  // config.mode
  Mode(std::string name) : name_(std::move(name)) {}  // NOLINT: implicit, so "FAST_RUN" is a Mode
  Mode(const char* name) : name_(name) {}             // NOLINT

  Mode including(const std::vector<std::string>& tags) const;
  Mode excluding(const std::vector<std::string>& tags) const;
  Mode requiring(const std::vector<std::string>& tags) const;

  // "" until resolved: the mode of config.mode.
  const std::string& name() const { return name_; }
  const std::vector<std::string>& included() const { return include_; }
  const std::vector<std::string>& excluded() const { return exclude_; }
  const std::vector<std::string>& required() const { return require_; }

 private:
  std::string name_;
  std::vector<std::string> include_, exclude_, require_;
};

// What a mode means once config is consulted.
struct ResolvedMode {
  std::string name;      // canonical: FAST_RUN, FAST_COMPILE, None, DebugMode, NanGuardMode
  RewriteQuery query;    // empty include set: no rewrites
  bool debug = false;
  bool nan_guard = false;
};

// Throws std::invalid_argument for an unknown mode name or optimizer.
ResolvedMode resolve_mode(const Mode& mode);
// The names get_mode accepts.
const std::vector<std::string>& mode_names();

}  // namespace theon
