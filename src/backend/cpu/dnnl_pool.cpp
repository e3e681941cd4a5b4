// Pooling forward (max and averages) and the averages' backward on oneDNN.
// Max pooling's backward stays in theon (pool_grad.cpp): oneDNN's workspace
// names one maximum per window, while Theano's MaxPoolGrad gives the gradient
// to every position equal to the maximum (ties are common after a ReLU).
#include "dnnl_engine.h"
#include "dnnl_ops.h"

namespace theon::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Entry {
  dnnl::primitive prim;
  memory::desc src, dst, scratch;
};

dnnl::algorithm alg(int kind) {
  return kind == 0   ? dnnl::algorithm::pooling_max
         : kind == 1 ? dnnl::algorithm::pooling_avg_include_padding
                     : dnnl::algorithm::pooling_avg_exclude_padding;
}

struct Descs {
  memory::desc src, dst;
  memory::dims strides, kernel, pl, pr;
};

Descs descs(const DnnlPool& g) {
  Descs d;
  d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nchw);
  d.dst = memory::desc({g.n, g.c, g.oh, g.ow}, dt::f32, tag::nchw);
  d.strides = {g.sh, g.sw};
  d.kernel = {g.kh, g.kw};
  d.pl = {g.ph, g.pw};
  // The end padding that makes oneDNN's (floor) output size equal theon's.
  d.pr = {std::max<int64_t>((g.oh - 1) * g.sh + g.kh - g.h - g.ph, 0),
          std::max<int64_t>((g.ow - 1) * g.sw + g.kw - g.w - g.pw, 0)};
  return d;
}

std::string key(const char* dir, const DnnlPool& g) {
  return dnnl_key(dir, {g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.kind});
}

DnnlCache<Entry>& cache() {
  static DnnlCache<Entry> c;
  return c;
}

dnnl::pooling_forward::primitive_desc forward_pd(const Descs& d, int kind, dnnl::prop_kind prop) {
  dnnl::pooling_forward::desc desc(prop, alg(kind), d.src, d.dst, d.strides, d.kernel, d.pl, d.pr);
  return dnnl::pooling_forward::primitive_desc(desc, dnnl_user_scratchpad_attr(), dnnl_cpu_engine());
}

bool run(const Entry* e, int in_arg, const void* in, int out_arg, void* out, const memory::desc& in_md,
         const memory::desc& out_md) {
  if (!e) return false;
  dnnl_sync_threads();
  auto& eng = dnnl_cpu_engine();
  auto& s = dnnl_cpu_stream();
  memory a(in_md, eng, const_cast<void*>(in)), b(out_md, eng, out);
  memory scratch(e->scratch, eng, dnnl_thread_buffer(3, e->scratch.get_size()));
  e->prim.execute(s, {{in_arg, a}, {out_arg, b}, {DNNL_ARG_SCRATCHPAD, scratch}});
  s.wait();
  dnnl_count_run();
  return true;
}

}  // namespace

bool dnnl_pool_forward(const DnnlPool& g, const float* x, float* y) {
  auto e = cache().get(key("pool_fwd", g), [&] {
    const Descs d = descs(g);
    auto pd = forward_pd(d, g.kind, dnnl::prop_kind::forward_inference);
    auto r = std::make_shared<Entry>();
    r->prim = dnnl::pooling_forward(pd);
    r->src = d.src;
    r->dst = d.dst;
    r->scratch = pd.scratchpad_desc();
    return r;
  });
  return e && run(e.get(), DNNL_ARG_SRC, x, DNNL_ARG_DST, y, e->src, e->dst);
}

bool dnnl_pool_backward(const DnnlPool& g, const float* gy, float* gx) {
  if (g.kind == 0) return false;  // max: theon's own kernel (ties)
  auto e = cache().get(key("pool_bwd", g), [&] {
    const Descs d = descs(g);
    auto hint = forward_pd(d, g.kind, dnnl::prop_kind::forward_training);
    dnnl::pooling_backward::desc desc(alg(g.kind), d.src, d.dst, d.strides, d.kernel, d.pl, d.pr);
    dnnl::pooling_backward::primitive_desc pd(desc, dnnl_user_scratchpad_attr(), dnnl_cpu_engine(), hint);
    auto r = std::make_shared<Entry>();
    r->prim = dnnl::pooling_backward(pd);
    r->src = d.src;
    r->dst = d.dst;
    r->scratch = pd.scratchpad_desc();
    return r;
  });
  return e && run(e.get(), DNNL_ARG_DIFF_DST, gy, DNNL_ARG_DIFF_SRC, gx, e->dst, e->src);
}

}  // namespace theon::cpu
