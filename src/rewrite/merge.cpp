// merge: common-subexpression elimination. Two nodes applying equal ops to
// the same inputs compute the same values, so the later one's outputs are
// replaced by the earlier one's; equal constants (dtype, shape, bytes) become
// one constant first, so `x + 2` written twice merges too.
#include <cstring>
#include <unordered_map>

#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

size_t constant_hash(const Array& a) {
  size_t h = std::hash<int>()(int(a.dtype())) ^ (a.ndim() * 0x9e3779b97f4a7c15ULL);
  for (int64_t d : a.shape()) h = h * 31 + std::hash<int64_t>()(d);
  Array c = a.is_c_contiguous() ? a : a.copy();
  const auto* p = static_cast<const unsigned char*>(c.data());
  size_t n = c.nbytes();
  // Large constants: hash a sample; equality is still checked on every byte.
  size_t step = n > 4096 ? n / 4096 : 1;
  for (size_t i = 0; i < n; i += step) h = h * 131 + p[i];
  return h;
}

bool same_constant(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Array ca = a.is_c_contiguous() ? a : a.copy();
  Array cb = b.is_c_contiguous() ? b : b.copy();
  return std::memcmp(ca.data(), cb.data(), ca.nbytes()) == 0;
}

}  // namespace

int merge_pass(FunctionGraph& fg) {
  int merged = 0;
  std::unordered_map<size_t, std::vector<Var>> constants;
  std::unordered_map<size_t, std::vector<ApplyNode*>> seen;
  for (ApplyNode* n : fg.toposort()) {
    if (!fg.contains(n)) continue;
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      Var in = n->inputs[i];
      if (!in.is_constant()) continue;
      auto& bucket = constants[constant_hash(in.constant_value())];
      bool found = false;
      for (const Var& c : bucket)
        if (c.is(in)) {
          found = true;
          break;
        } else if (same_constant(c.constant_value(), in.constant_value())) {
          fg.replace(in, c, "merge");
          ++merged;
          found = true;
          break;
        }
      if (!found) bucket.push_back(in);
    }
    size_t h = n->op->hash();
    for (const auto& in : n->inputs) h = h * 1000003 ^ std::hash<const void*>()(in.get());
    auto& bucket = seen[h];
    ApplyNode* twin = nullptr;
    for (ApplyNode* m : bucket) {
      if (!fg.contains(m) || m->inputs.size() != n->inputs.size() || !m->op->equals(*n->op)) continue;
      bool same = true;
      for (size_t i = 0; i < n->inputs.size() && same; ++i) same = m->inputs[i].is(n->inputs[i]);
      if (same) {
        twin = m;
        break;
      }
    }
    if (!twin) {
      bucket.push_back(n);
      continue;
    }
    std::vector<std::pair<Var, Var>> pairs;
    for (size_t i = 0; i < n->outputs.size(); ++i) pairs.push_back({n->output(int(i)), twin->output(int(i))});
    fg.replace_all(pairs, "merge");
    ++merged;
  }
  return merged;
}

void register_merge_rewrites(RewriteDB& db) {
  db.global("merge", Phase::Merge, {kFastRun, kFastCompile}, "f(x) computed twice -> computed once (equal ops, same inputs; equal constants)",
            [](FunctionGraph& fg) { return merge_pass(fg); });
}

}  // namespace theon
