// theon/ops/composite_reduce.h — a reduction fused with its elementwise producer.
//
// CompositeReduce computes reduce(composite(inputs)) where the reduction runs
// over the trailing axes (sum(exp(x) * y, axis=-1), max over rows, ...). The
// elementwise result is never materialized whole: rows are computed a chunk
// at a time (about 64K elements, in a thread's cache) and reduced at once,
// chunks spread over the thread pool. Each chunk runs the same Composite and
// Reduce kernels on a slice of the leading axis, and a row's reduction only
// reads that row, so the result has the same bits as the unfused pair. Rows
// longer than 2^17 elements (where Reduce splits one row across threads) and
// shapes without a leading axis of length >= 2 run the two ops one after the
// other. Built by the elemwise_reduce_fusion rewrite; no gradient (fusion runs
// after grad).
#pragma once
#include <memory>

#include "theon/ops/composite.h"
#include "theon/ops/reduce.h"

namespace theon {

class CompositeReduce : public Op {
 public:
  // `reduce` must reduce the trailing axes of composite's single output.
  CompositeReduce(std::shared_ptr<const Composite> composite, std::shared_ptr<const Reduce> reduce);
  std::string name() const override;
  std::string props() const override;
  THEON_OP_OVERRIDES
  const Composite& composite() const { return *comp_; }
  const Reduce& reduce() const { return *red_; }

 private:
  std::shared_ptr<const Composite> comp_;
  std::shared_ptr<const Reduce> red_;
};

}  // namespace theon
