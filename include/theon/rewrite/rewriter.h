// theon/rewrite/rewriter.h — named rewrites, phases and the driver.
//
// A local rewrite looks at one Apply node and either declines (returns an
// empty vector) or returns one replacement per output (an undefined Var keeps
// that output). The driver runs a phase's local rewrites over a worklist
// until nothing changes (a fixed point), revisiting the clients of every
// replaced variable and every node a replacement introduced. A global rewrite
// (merge, fusion, inplace) sees the whole graph at once.
//
// Every rewrite has a name, the phase it runs in, and tags; a query selects
// rewrites by tag and excludes them by name or tag (Theano's
// optimizer_including / optimizer_excluding). All rewrites are registered in
// one place (src/rewrite/registry.cpp), one function per phase file.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>
#include <typeindex>
#include <vector>

#include "theon/ops/elemwise.h"
#include "theon/rewrite/fgraph.h"

namespace theon {

// The phases, in the order they run.
enum class Phase : uint8_t { Merge, Canonicalize, Stabilize, Specialize, Fusion, Inplace };
const char* phase_name(Phase p);

// Which nodes a local rewrite looks at: ops of a class, and for Elemwise one scalar op.
struct OpKey {
  std::type_index type;
  int scalar = -1;  // ScalarOpId for Elemwise, -1 for any
  bool operator<(const OpKey& o) const { return type != o.type ? type < o.type : scalar < o.scalar; }
};
template <class O>
OpKey key() { return OpKey{typeid(O), -1}; }
OpKey key(ScalarOpId id);  // Elemwise with this scalar op

using LocalFn = std::function<std::vector<Var>(FunctionGraph&, ApplyNode&)>;
using GlobalFn = std::function<int(FunctionGraph&)>;  // returns how many changes it made

struct RewriteInfo {
  std::string name;
  Phase phase;
  std::vector<std::string> tags;  // besides the name; "fast_run", "fast_compile", "stabilize", ...
  std::vector<OpKey> tracks;      // empty: every node (local rewrites only)
  LocalFn local;                  // exactly one of local / global is set
  GlobalFn global;
  std::string doc;                // the math and the reason, one line
};

// Tags every rewrite of the default optimizer carries; FAST_COMPILE selects "fast_compile".
inline constexpr const char* kFastRun = "fast_run";
inline constexpr const char* kFastCompile = "fast_compile";

class RewriteDB {
 public:
  void add(RewriteInfo r);
  // Convenience for local rewrites.
  void local(std::string name, Phase phase, std::vector<OpKey> tracks, std::vector<std::string> tags,
             std::string doc, LocalFn fn);
  void global(std::string name, Phase phase, std::vector<std::string> tags, std::string doc, GlobalFn fn);
  const std::vector<RewriteInfo>& all() const { return rewrites_; }
  const RewriteInfo* find(const std::string& name) const;

 private:
  std::vector<RewriteInfo> rewrites_;
};

// The database of every rewrite theon has (built on first use). Users may add
// their own rewrites to it (Theano's register_canonicalize & co.); a new
// rewrite runs in functions compiled afterwards when a mode's query selects it.
RewriteDB& rewrite_db();

// Selects rewrites: those carrying any `include` tag (or named in it), carrying every `require` tag,
// and neither named nor tagged by anything in `exclude`.
struct RewriteQuery {
  std::set<std::string> include;
  std::set<std::string> require;
  std::set<std::string> exclude;
  bool selects(const RewriteInfo& r) const;
  bool empty() const { return include.empty(); }
};

// What one optimization did.
struct RewriteStats {
  std::map<std::string, int> applied;  // rewrite name -> times it fired
  double seconds = 0;
  size_t nodes_before = 0, nodes_after = 0;
  std::vector<std::string> warnings;   // e.g. a phase that did not reach its fixed point
};

// Runs the selected rewrites over `fg`, phase by phase.
RewriteStats optimize(FunctionGraph& fg, const RewriteQuery& query);

// Registration functions, one per phase file (called by rewrite_db()).
void register_merge_rewrites(RewriteDB& db);
void register_constant_folding(RewriteDB& db);
void register_canonicalize_rewrites(RewriteDB& db);
void register_stabilize_rewrites(RewriteDB& db);
void register_specialize_rewrites(RewriteDB& db);
void register_fusion_rewrites(RewriteDB& db);
void register_inplace_rewrites(RewriteDB& db);
void register_inline_rewrites(RewriteDB& db);

// Merges equal computations (same op, same inputs) and equal constants; returns how many merged.
int merge_pass(FunctionGraph& fg);

}  // namespace theon
