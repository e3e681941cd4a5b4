// Inplace elementwise ops: where the rewrite marks them, that they reuse a
// dead buffer at run time, and that nothing anyone can observe is overwritten.
#include <cstring>

#include "rewrite_test_util.h"
#include "theon/ops/composite.h"

namespace theon::testing {
namespace {

const Mode kNoFusion = Mode("FAST_RUN").excluding({"fusion"});

bool same_bytes(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Array ca = a.copy(), cb = b.copy();
  return std::memcmp(ca.data(), cb.data(), ca.nbytes()) == 0;
}

TEST(InplaceElemwise, DeadIntermediateIsOverwritten) {
  Var x = matrix(DType::Float64, "x");
  Var out = exp(x) + x;  // exp(x) is read once, by the add
  Array xv = random_array(DType::Float64, {4, 5}, 1);
  Array keep = xv.copy();
  auto f = expect_same_as_unoptimized({x}, {out}, {xv}, kNoFusion);
  EXPECT_GE(fired(*f, "elemwise_inplace"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{add,inplace}"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{exp,inplace}"), 0);  // x is the user's input
  (*f)({xv});
  EXPECT_TRUE(same_bytes(xv, keep)) << "the argument was modified";
}

TEST(InplaceElemwise, RunTimeCheckDecidesReuse) {
  auto op = std::make_shared<Elemwise>(ScalarOpId::add, 0);
  Array b = random_array(DType::Float64, {3, 4}, 2);
  {
    std::vector<Array> ins{random_array(DType::Float64, {3, 4}, 3), b};
    const Buffer* buf = ins[0].buffer().get();
    Array want = elemwise_eval(ScalarOpId::add, ins);
    std::vector<Array> outs(1);
    op->perform(ins, outs);
    EXPECT_EQ(outs[0].buffer().get(), buf) << "the only holder of the buffer: reused";
    EXPECT_TRUE(same_bytes(outs[0], want));
  }
  {
    Array a = random_array(DType::Float64, {3, 4}, 4), keep = a.copy();
    std::vector<Array> ins{a, b};  // `a` still holds the buffer
    std::vector<Array> outs(1);
    op->perform(ins, outs);
    EXPECT_NE(outs[0].buffer().get(), a.buffer().get());
    EXPECT_TRUE(same_bytes(a, keep));
  }
  {
    std::vector<Array> ins{random_array(DType::Float64, {1, 4}, 5), b};  // broadcast: too small
    std::vector<Array> outs(1);
    op->perform(ins, outs);
    EXPECT_EQ(outs[0].shape(), (Shape{3, 4}));
    EXPECT_NE(outs[0].buffer().get(), ins[0].buffer().get());
  }
  {
    std::vector<Array> ins{random_array(DType::Float64, {4, 3}, 6).transpose(), b};  // not C-contiguous
    Array want = elemwise_eval(ScalarOpId::add, ins);
    std::vector<Array> outs(1);
    op->perform(ins, outs);
    EXPECT_NE(outs[0].buffer().get(), ins[0].buffer().get());
    EXPECT_TRUE(same_bytes(outs[0], want));
  }
}

TEST(InplaceElemwise, NotMarkedWhereItCannotApply) {
  // float16 is computed in float32 and rounded: the kernel never writes the input's dtype.
  Var h = matrix(DType::Float16, "h");
  auto f = expect_same_as_unoptimized({h}, {exp(h) * h}, {random_array(DType::Float16, {3, 3}, 7)}, kNoFusion);
  EXPECT_EQ(count_ops(*f, "Elemwise{mul,inplace}"), 0);
  // A broadcast intermediate is smaller than the output.
  Var r = tensor(DType::Float64, {1, -1}, "r"), m = matrix(DType::Float64, "m");
  auto g = expect_same_as_unoptimized({r, m}, {exp(r) + m},
                                      {random_array(DType::Float64, {1, 4}, 8), random_array(DType::Float64, {3, 4}, 9)},
                                      kNoFusion);
  EXPECT_EQ(count_ops(*g, "Elemwise{add,inplace}"), 0);
}

TEST(InplaceElemwise, IntermediateReadTwiceIsNotDestroyed) {
  Var x = vector(DType::Float64, "x");
  Var y = exp(x);
  std::vector<Var> outs{y + 1.0, y * 2.0, sin(y) - y};
  std::vector<Array> vals{random_array(DType::Float64, {16}, 10)};
  auto f = expect_same_as_unoptimized({x}, outs, vals, kNoFusion);
  EXPECT_EQ(count_ops(*f, "Elemwise{add,inplace}"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{mul,inplace}"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{sub,inplace}"), 1);  // sin(y) is dead after the sub
  auto g = expect_same_as_unoptimized({x}, outs, vals);  // fused as well
  EXPECT_EQ(count_ops(*g, "Elemwise{exp}"), 1);
}

TEST(InplaceComposite, FusedNodeReusesADeadInput) {
  Var x = matrix(DType::Float32, "x"), w = matrix(DType::Float32, "w");
  Var h = dot(x, w);  // an intermediate nothing else reads
  Var out = tanh(h * 0.5 + 1.0) * x;
  std::vector<Array> vals{random_array(DType::Float32, {6, 6}, 11), random_array(DType::Float32, {6, 6}, 12)};
  std::vector<Array> keep{vals[0].copy(), vals[1].copy()};
  auto f = expect_same_as_unoptimized({x, w}, {out}, vals);
  EXPECT_GE(fired(*f, "elemwise_inplace"), 1);
  EXPECT_EQ(count_ops(*f, "Composite"), 1);
  bool marked = false;
  for (const ApplyNode* n : f->nodes())
    if (auto* c = dynamic_cast<const Composite*>(n->op.get())) {
      marked = !c->inplace().empty() && n->inputs[size_t(c->inplace()[0])].owner() != nullptr;
      EXPECT_NE(c->name().find("(inplace "), std::string::npos) << c->name();
    }
  EXPECT_TRUE(marked);
  EXPECT_TRUE(same_bytes(vals[0], keep[0]) && same_bytes(vals[1], keep[1])) << "the arguments were modified";
}

TEST(InplaceComposite, RunTimeCheckDecidesReuse) {
  ScalarProgram p;
  p.inputs = {DType::Float16, DType::Float16};
  p.instrs.push_back({false, ScalarOpId::exp, DType::Float64, {0}});
  p.instrs.push_back({false, ScalarOpId::mul, DType::Float64, {2, 1}});
  p.outputs = {3};
  auto plain = std::make_shared<Composite>(p);
  auto inplace = std::make_shared<Composite>(p, std::vector<int>{0});
  EXPECT_FALSE(plain->equals(*inplace));
  EXPECT_EQ(inplace->name(), "Composite{exp(i0) * i1}(inplace 0)");
  Array b = random_array(DType::Float16, {5, 7}, 13);
  std::vector<Array> ref_ins{random_array(DType::Float16, {5, 7}, 14), b};
  std::vector<Array> want(1);
  plain->perform(ref_ins, want);
  std::vector<Array> ins{ref_ins[0].copy(), b};
  const Buffer* buf = ins[0].buffer().get();
  std::vector<Array> got(1);
  inplace->perform(ins, got);
  EXPECT_EQ(got[0].buffer().get(), buf);  // float16 too: the composite rounds before it writes
  EXPECT_TRUE(same_bytes(want[0], got[0]));
  Array held = ref_ins[0], keep = held.copy();  // a second holder: no reuse
  std::vector<Array> ins2{held, b}, got2(1);
  inplace->perform(ins2, got2);
  EXPECT_NE(got2[0].buffer().get(), held.buffer().get());
  EXPECT_TRUE(same_bytes(held, keep));
  EXPECT_THROW(Composite(p, std::vector<int>{0, 1}), std::invalid_argument);  // one entry per output
}

TEST(InplaceSafety, UserArgumentsBehindViewsAreNeverModified) {
  // flatten(x) is a C-contiguous view of the argument: the static rule accepts
  // it, the run-time check sees the argument's buffer is held elsewhere.
  Var x = matrix(DType::Float64, "x");
  Var out = exp(flatten(x)) * 3.0 - 1.0;
  Array xv = random_array(DType::Float64, {3, 4}, 15);
  Array keep = xv.copy();
  for (Mode m : {Mode("FAST_RUN"), kNoFusion}) {
    auto f = expect_same_as_unoptimized({x}, {out}, {xv}, m);
    (*f)({xv});
    EXPECT_TRUE(same_bytes(xv, keep)) << "the argument was modified";
  }
}

TEST(InplaceSafety, SharedValueSurvivesACallWhoseUpdateReadsIt) {
  Array w0 = random_array(DType::Float64, {8}, 16);
  Var w = shared(w0.copy(), "w");
  Var x = vector(DType::Float64, "x");
  Var view = flatten(reshape(w, std::vector<int64_t>{2, 4}));  // a view of the shared value
  Var out = exp(view) * x + 1.0;
  FunctionOptions o;
  o.updates = {{w, w * 0.5 + x}};
  std::vector<In> ins{In(x)};
  auto f = function(ins, {out}, o);
  // The fused node may destroy `view` by the static rule; at run time the shared value holds the buffer.
  EXPECT_GE(fired(*f, "elemwise_inplace"), 1);
  Array before = get_value(w, true);
  Array before_copy = before.copy();
  Array xv = random_array(DType::Float64, {8}, 17);
  auto got = (*f)({xv});
  EXPECT_TRUE(same_bytes(before, before_copy)) << "the old shared value was overwritten";
  // The output and the update were computed from the old value.
  std::vector<double> wv = w0.to_double_vector(), xd = xv.to_double_vector(), o1 = got[0].to_double_vector(),
                      w1 = get_value(w).to_double_vector();
  for (size_t i = 0; i < wv.size(); ++i) {
    EXPECT_DOUBLE_EQ(o1[i], std::exp(wv[i]) * xd[i] + 1.0);
    EXPECT_DOUBLE_EQ(w1[i], wv[i] * 0.5 + xd[i]);
  }
}

}  // namespace
}  // namespace theon::testing
