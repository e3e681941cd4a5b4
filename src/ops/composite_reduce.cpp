// CompositeReduce: the elementwise producer and its reduction over the
// trailing axes, computed a chunk of leading-axis rows at a time.
#include "theon/ops/composite_reduce.h"

#include <stdexcept>

#include "theon/ops/shape.h"
#include "theon/runtime/profiling.h"
#include "theon/runtime/thread_pool.h"

namespace theon {

namespace {
constexpr int64_t kChunkElems = int64_t(1) << 16;  // elementwise values per chunk (in cache)
constexpr int64_t kMaxRow = int64_t(1) << 17;      // Reduce splits longer single rows: not fused
}  // namespace

CompositeReduce::CompositeReduce(std::shared_ptr<const Composite> composite, std::shared_ptr<const Reduce> reduce)
    : comp_(std::move(composite)), red_(std::move(reduce)) {
  if (!comp_ || !red_ || comp_->program().outputs.size() != 1)
    throw std::invalid_argument("[CompositeReduce] needs a single-output Composite and a Reduce");
}

std::string CompositeReduce::name() const { return red_->name() + "(" + comp_->name() + ")"; }
std::string CompositeReduce::props() const { return red_->props() + "|" + comp_->props(); }

std::vector<TensorType> CompositeReduce::infer_type(const std::vector<Var>& inputs) const {
  const TensorType mid = comp_->infer_type(inputs)[0];
  const int nd = mid.ndim();
  const auto& axes = red_->axes();
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != nd - int(axes.size()) + int(i))
      throw std::invalid_argument("[CompositeReduce] the reduction must be over the trailing axes");
  return red_->infer_type({variable(mid)});
}

std::optional<ShapeExprs> CompositeReduce::infer_shape(const ApplyNode&, const ShapeExprs&) const {
  return std::nullopt;  // built after the shape rewrites have run
}

std::vector<InputGrad> CompositeReduce::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return std::vector<InputGrad>(node.inputs.size(),
                                InputGrad::undefined("CompositeReduce has no gradient (fusion runs after grad)"));
}

void CompositeReduce::perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const {
  Shape full;
  for (const Array& a : inputs) full = broadcast_shapes(full, a.shape());
  const int nd = int(full.size());
  const int k = int(red_->axes().size());
  int64_t row = 1;
  for (int d = nd - k; d < nd; ++d) row *= full[size_t(d)];
  const int64_t lead = nd > k ? full[0] : 0;
  const int64_t per_lead = lead > 0 ? shape_size(full) / lead : 0;
  if (lead < 2 || row > kMaxRow || per_lead == 0) {  // the two ops in turn
    std::vector<Array> mid(1);
    comp_->perform(inputs, mid);
    red_->perform(mid, outputs);
    note_kernel("composite, then reduce");
    return;
  }
  const int64_t per_chunk = std::max<int64_t>(1, kChunkElems / per_lead);
  const int64_t chunks = (lead + per_chunk - 1) / per_chunk;
  std::vector<Array> parts(static_cast<size_t>(chunks));
  std::vector<Array> views;
  views.reserve(inputs.size());
  for (const Array& a : inputs) views.push_back(a.broadcast_to(full));
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const int64_t r0 = c * per_chunk, r1 = std::min(lead, r0 + per_chunk);
      std::vector<Array> slice;
      slice.reserve(views.size());
      for (const Array& v : views) slice.push_back(v.slice(0, r0, r1, 1));
      std::vector<Array> mid(1), red(1);
      comp_->perform(slice, mid);
      red_->perform(mid, red);
      parts[size_t(c)] = std::move(red[0]);
    }
  });
  Shape out_shape = parts[0].shape();
  out_shape[0] = lead;
  Array out = Array::empty(parts[0].dtype(), out_shape);
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = c * per_chunk;
    out.slice(0, r0, r0 + parts[size_t(c)].shape()[0], 1).assign(parts[size_t(c)]);
  }
  outputs.assign(1, out);
  note_kernel("fused in chunks of 64K");
}

}  // namespace theon
