// Shape inference of the indexing ops: the symbolic shape of x[idx] from the
// shapes of x and of the index arrays, so x[idx].shape need not compute x[idx].
#include <algorithm>

#include "subtensor_impl.h"
#include "theon/ops/shape.h"

namespace theon::subtensor_detail {

Var slice_length_expr(const IndexEntry& e, const Var& n, const std::vector<Var>& inputs, size_t k) {
  std::optional<int64_t> step = 1;
  if (e.has_step) step = static_int_scalar(inputs[k + e.num_inputs() - 1]);
  if (!e.has_start && !e.has_stop && step && (*step == 1 || *step == -1)) return n;
  std::vector<Var> ins{n};
  for (int j = 0; j < e.num_inputs(); ++j) ins.push_back(inputs[k + j]);
  return make1<SliceLength>(ins, e);
}

std::vector<Var> index_result_shape(const ApplyNode& node, const ShapeExprs& in,
                                    const IndexPattern& p, size_t first, const TensorType& out) {
  const bool adv = pattern_is_advanced(p);
  std::vector<Var> vdims;
  std::vector<bool> vadv;
  std::vector<std::vector<Var>> groups;
  bool groups_known = true;
  size_t k = first;
  int ax = 0;
  for (const auto& e : p) {
    const Var& n = ax < int(in[0].size()) ? in[0][ax] : Var();
    switch (e.kind) {
      case IndexEntry::Kind::Int:
        if (adv) {
          vdims.push_back(n);
          vadv.push_back(true);
          groups.push_back({});
        }
        ++ax;
        break;
      case IndexEntry::Kind::Slice:
        vdims.push_back(slice_length_expr(e, n, node.inputs, k));
        vadv.push_back(false);
        ++ax;
        break;
      case IndexEntry::Kind::NewAxis:
        vdims.push_back(constant(1.0, DType::Int64));
        vadv.push_back(false);
        break;
      case IndexEntry::Kind::Array: {
        const Var& a = node.inputs[k];
        int m = a.dtype() == DType::Bool ? a.ndim() : 1;
        for (int j = 0; j < std::max(m, 1); ++j) {
          vdims.push_back(a.ndim() == 0 && a.dtype() == DType::Bool ? Var() : in[0][ax + j]);
          vadv.push_back(true);
        }
        if (a.dtype() == DType::Bool) groups_known = false;
        else groups.push_back(in[k]);
        ax += m;
        break;
      }
    }
    k += e.num_inputs();
  }
  for (; ax < int(in[0].size()); ++ax) {
    vdims.push_back(in[0][ax]);
    vadv.push_back(false);
  }
  std::vector<Var> r;
  if (!adv) {
    r = vdims;
  } else {
    // The broadcast index shape is derivable when at most one index is not 0-d.
    std::vector<Var> b;
    int nonscalar = 0;
    for (const auto& g : groups)
      if (!g.empty()) {
        ++nonscalar;
        b = g;
      }
    int nb = int(out.ndim()) - int(std::count(vadv.begin(), vadv.end(), false));
    if (!groups_known || nonscalar > 1 || int(b.size()) != nb) b.assign(std::max(nb, 0), Var());
    int first_adv = int(std::find(vadv.begin(), vadv.end(), true) - vadv.begin());
    int last_adv = int(vadv.rend() - std::find(vadv.rbegin(), vadv.rend(), true)) - 1;
    bool together = int(std::count(vadv.begin(), vadv.end(), true)) == last_adv - first_adv + 1;
    for (int i = 0; i < int(vdims.size()); ++i) {
      if (i == first_adv && together) r.insert(r.end(), b.begin(), b.end());
      if (!vadv[i]) r.push_back(vdims[i]);
    }
    if (!together) r.insert(r.begin(), b.begin(), b.end());
  }
  if (int(r.size()) != out.ndim()) return std::vector<Var>(out.ndim());
  for (int i = 0; i < out.ndim(); ++i)
    if (out.shape[i] != kUnknownDim) r[i] = constant(double(out.shape[i]), DType::Int64);
  return r;
}

}  // namespace theon::subtensor_detail
