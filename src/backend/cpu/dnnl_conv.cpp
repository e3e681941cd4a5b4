// Convolution forward, backward-data and backward-weights on oneDNN.
//
// Each (direction, shape, parameters) builds its primitive once (DnnlCache).
// The primitive is created with the layouts oneDNN prefers (format_tag::any,
// often a channel-blocked layout) or with theon's plain NCHW / OIHW layouts,
// as THEON_DNNL_LAYOUT says ("plain", "weights": only the filters may be
// blocked, "any"); the reorders between the user's layout and the
// primitive's are built with it and run on every call into per-thread buffers.
#include <cstdlib>
#include <cstring>
#include <optional>

#include "dnnl_engine.h"
#include "dnnl_ops.h"

namespace theon::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum class Layout { Plain, Weights, Any };

Layout layout_mode() {
  static const Layout mode = [] {
    const char* e = std::getenv("THEON_DNNL_LAYOUT");
    if (e && std::strcmp(e, "any") == 0) return Layout::Any;
    if (e && std::strcmp(e, "weights") == 0) return Layout::Weights;
    if (e && std::strcmp(e, "plain") == 0) return Layout::Plain;
    return Layout::Any;
  }();
  return mode;
}

// A primitive with two inputs (a, b) and one output (c), the layouts it wants
// for them, and the reorders from / to the user's plain layouts when those differ.
struct Entry {
  dnnl::primitive prim;
  int a_arg, b_arg, c_arg;
  memory::desc a_user, b_user, c_user, a_md, b_md, c_md, scratch_md;
  std::optional<dnnl::reorder> a_in, b_in, c_out;
};

// The user's plain descriptors and the ones given to the primitive.
struct Descs {
  memory::desc src, wei, dst;     // plain
  memory::desc src_p, wei_p, dst_p;  // for the primitive (plain or any)
  memory::dims strides, dil, pl, pr;
};

Descs descs(const DnnlConv& g) {
  Descs d;
  const memory::dims sd{g.n, g.c, g.h, g.w}, dd{g.n, g.oc, g.oh, g.ow};
  const memory::dims wd = g.groups > 1 ? memory::dims{g.groups, g.oc / g.groups, g.c / g.groups, g.kh, g.kw}
                                       : memory::dims{g.oc, g.c, g.kh, g.kw};
  const tag wtag = g.groups > 1 ? tag::goihw : tag::oihw;
  d.src = memory::desc(sd, dt::f32, tag::nchw);
  d.dst = memory::desc(dd, dt::f32, tag::nchw);
  d.wei = memory::desc(wd, dt::f32, wtag);
  const Layout mode = layout_mode();
  d.src_p = mode == Layout::Any ? memory::desc(sd, dt::f32, tag::any) : d.src;
  d.dst_p = mode == Layout::Any ? memory::desc(dd, dt::f32, tag::any) : d.dst;
  d.wei_p = mode == Layout::Plain ? d.wei : memory::desc(wd, dt::f32, tag::any);
  d.strides = {g.sh, g.sw};
  d.dil = {g.dh - 1, g.dw - 1};
  d.pl = {g.ph, g.pw};
  // The end padding that makes oneDNN's (floor) output size equal theon's;
  // any value in [tight, tight + stride) does, so never below 0.
  const int64_t dkh = (g.kh - 1) * g.dh + 1, dkw = (g.kw - 1) * g.dw + 1;
  d.pr = {std::max<int64_t>((g.oh - 1) * g.sh + dkh - g.h - g.ph, 0),
          std::max<int64_t>((g.ow - 1) * g.sw + dkw - g.w - g.pw, 0)};
  return d;
}

std::optional<dnnl::reorder> reorder_if(const memory::desc& from, const memory::desc& to) {
  if (from == to) return std::nullopt;
  auto& eng = dnnl_cpu_engine();
  return dnnl::reorder(dnnl::reorder::primitive_desc(eng, from, eng, to));
}

template <class Prim>
std::shared_ptr<Entry> finish(const typename Prim::primitive_desc& pd, int a_arg, const memory::desc& a_user, const memory::desc& a_md,
                              int b_arg, const memory::desc& b_user, const memory::desc& b_md, int c_arg,
                              const memory::desc& c_user, const memory::desc& c_md) {
  auto e = std::make_shared<Entry>();
  e->prim = Prim(pd);
  e->a_arg = a_arg;
  e->b_arg = b_arg;
  e->c_arg = c_arg;
  e->a_user = a_user;
  e->b_user = b_user;
  e->c_user = c_user;
  e->a_md = a_md;
  e->b_md = b_md;
  e->c_md = c_md;
  e->scratch_md = pd.scratchpad_desc();
  e->a_in = reorder_if(a_user, a_md);
  e->b_in = reorder_if(b_user, b_md);
  e->c_out = reorder_if(c_md, c_user);
  return e;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d) {
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                       d.src_p, d.wei_p, d.dst_p, d.strides, d.dil, d.pl, d.pr);
  return dnnl::convolution_forward::primitive_desc(desc, dnnl_user_scratchpad_attr(), dnnl_cpu_engine());
}

std::string key(const char* dir, const DnnlConv& g) {
  return dnnl_key(dir, {int64_t(layout_mode()), g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.oh, g.ow, g.groups, g.sh,
                        g.sw, g.dh, g.dw, g.ph, g.pw});
}

DnnlCache<Entry>& cache() {
  static DnnlCache<Entry> c;
  return c;
}

bool run(const Entry* e, const void* a, const void* b, void* c) {
  if (!e) return false;
  dnnl_sync_threads();
  auto& eng = dnnl_cpu_engine();
  auto& s = dnnl_cpu_stream();
  memory a_u(e->a_user, eng, const_cast<void*>(a)), b_u(e->b_user, eng, const_cast<void*>(b));
  memory c_u(e->c_user, eng, c);
  memory a_p = a_u, b_p = b_u, c_p = c_u;
  if (e->a_in) {
    a_p = memory(e->a_md, eng, dnnl_thread_buffer(0, e->a_md.get_size()));
    e->a_in->execute(s, a_u, a_p);
  }
  if (e->b_in) {
    b_p = memory(e->b_md, eng, dnnl_thread_buffer(1, e->b_md.get_size()));
    e->b_in->execute(s, b_u, b_p);
  }
  if (e->c_out) c_p = memory(e->c_md, eng, dnnl_thread_buffer(2, e->c_md.get_size()));
  memory scratch(e->scratch_md, eng, dnnl_thread_buffer(3, e->scratch_md.get_size()));
  e->prim.execute(s, {{e->a_arg, a_p}, {e->b_arg, b_p}, {e->c_arg, c_p}, {DNNL_ARG_SCRATCHPAD, scratch}});
  if (e->c_out) e->c_out->execute(s, c_p, c_u);
  s.wait();
  dnnl_count_run();
  return true;
}

}  // namespace

bool dnnl_conv_forward(const DnnlConv& g, const float* x, const float* wt, float* y) {
  auto e = cache().get(key("conv_fwd", g), [&] {
    const Descs d = descs(g);
    auto pd = forward_pd(d);
    return finish<dnnl::convolution_forward>(pd, DNNL_ARG_SRC, d.src, pd.src_desc(), DNNL_ARG_WEIGHTS, d.wei, pd.weights_desc(), DNNL_ARG_DST,
                  d.dst, pd.dst_desc());
  });
  return run(e.get(), x, wt, y);
}

bool dnnl_conv_backward_data(const DnnlConv& g, const float* wt, const float* gy, float* gx) {
  auto e = cache().get(key("conv_bwd_data", g), [&] {
    const Descs d = descs(g);
    auto hint = forward_pd(d);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src_p, d.wei_p, d.dst_p,
                                               d.strides, d.dil, d.pl, d.pr);
    dnnl::convolution_backward_data::primitive_desc pd(desc, dnnl_user_scratchpad_attr(), dnnl_cpu_engine(), hint);
    return finish<dnnl::convolution_backward_data>(pd, DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(), DNNL_ARG_WEIGHTS, d.wei, pd.weights_desc(),
                  DNNL_ARG_DIFF_SRC, d.src, pd.diff_src_desc());
  });
  return run(e.get(), gy, wt, gx);
}

bool dnnl_conv_backward_weights(const DnnlConv& g, const float* x, const float* gy, float* gw) {
  auto e = cache().get(key("conv_bwd_weights", g), [&] {
    const Descs d = descs(g);
    auto hint = forward_pd(d);
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src_p, d.wei_p, d.dst_p,
                                                  d.strides, d.dil, d.pl, d.pr);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, dnnl_user_scratchpad_attr(), dnnl_cpu_engine(),
                                                          hint);
    return finish<dnnl::convolution_backward_weights>(pd, DNNL_ARG_SRC, d.src, pd.src_desc(), DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(),
                  DNNL_ARG_DIFF_WEIGHTS, d.wei, pd.diff_weights_desc());
  });
  return run(e.get(), x, gy, gw);
}

}  // namespace theon::cpu
