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
#include <vector>

#include "dnnl_engine.h"
#include "dnnl_ops.h"
#include "theon/runtime/thread_pool.h"

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
  memory::desc src, wei, dst;        // plain
  memory::desc src_p, wei_p, dst_p;  // for the primitive (plain or any)
  memory::dims strides, dil, pl, pr;
};

enum class Dir { Forward, BackwardData, BackwardWeights };

// The descriptors of one direction: its inputs in g's input dtype (bfloat16 or
// float32), its output in float32.
Descs descs(const DnnlConv& g, Dir dir) {
  Descs d;
  const memory::dims sd{g.n, g.c, g.h, g.w}, dd{g.n, g.oc, g.oh, g.ow};
  const memory::dims wd = g.groups > 1
                              ? memory::dims{g.groups, g.oc / g.groups, g.c / g.groups, g.kh, g.kw}
                              : memory::dims{g.oc, g.c, g.kh, g.kw};
  const tag wtag = g.groups > 1 ? tag::goihw : tag::oihw;
  const dt in = g.bf16 ? dt::bf16 : dt::f32;
  const dt st = dir == Dir::BackwardData ? dt::f32 : in,
           wt = dir == Dir::BackwardWeights ? dt::f32 : in, yt = dir == Dir::Forward ? dt::f32 : in;
  d.src = memory::desc(sd, st, tag::nchw);
  d.dst = memory::desc(dd, yt, tag::nchw);
  d.wei = memory::desc(wd, wt, wtag);
  const Layout mode = layout_mode();
  d.src_p = mode == Layout::Any ? memory::desc(sd, st, tag::any) : d.src;
  d.dst_p = mode == Layout::Any ? memory::desc(dd, yt, tag::any) : d.dst;
  d.wei_p = mode == Layout::Plain ? d.wei : memory::desc(wd, wt, tag::any);
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
std::shared_ptr<Entry> finish(const typename Prim::primitive_desc& pd, int a_arg,
                              const memory::desc& a_user, const memory::desc& a_md, int b_arg,
                              const memory::desc& b_user, const memory::desc& b_md, int c_arg,
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

// oneDNN's blocked backward-data kernels pad the input channels to 16, so with
// only a few per group (an image's single channel) the plain layouts' kernel
// (gemm-based) does far less work: 64 28x28 one-channel images' gradient took
// 6 ms blocked, 1 ms plain. (Forward and backward-weights stay faster blocked
// even for one output channel.)
bool few_channels(int64_t channels, const DnnlConv& g) {
  return channels / g.groups < 4;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool plain) {
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                       dnnl::algorithm::convolution_direct, plain ? d.src : d.src_p,
                                       plain ? d.wei : d.wei_p, plain ? d.dst : d.dst_p, d.strides,
                                       d.dil, d.pl, d.pr);
  return dnnl::convolution_forward::primitive_desc(desc, dnnl_user_scratchpad_attr(),
                                                   dnnl_cpu_engine());
}

std::string key(const char* dir, const DnnlConv& g) {
  return dnnl_key(dir, {int64_t(layout_mode()), int64_t(g.bf16), g.n, g.c, g.h, g.w, g.oc, g.kh,
                        g.kw, g.oh, g.ow, g.groups, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw});
}

DnnlCache<Entry>& cache() {
  static DnnlCache<Entry> c;
  return c;
}

// One execution: a and b in the user's layouts, or b already in the
// primitive's (b_ready); c in the user's layout, or left in the primitive's (c_raw).
void run(const Entry* e, const void* a, const void* b, void* c, bool b_ready = false,
         bool c_raw = false) {
  dnnl_sync_threads();
  auto& eng = dnnl_cpu_engine();
  auto& s = dnnl_cpu_stream();
  memory a_u(e->a_user, eng, const_cast<void*>(a));
  memory b_u(b_ready ? e->b_md : e->b_user, eng, const_cast<void*>(b));
  memory c_u(c_raw ? e->c_md : e->c_user, eng, c);
  memory a_p = a_u, b_p = b_u, c_p = c_u;
  if (e->a_in) {
    a_p = memory(e->a_md, eng, dnnl_thread_buffer(0, e->a_md.get_size()));
    e->a_in->execute(s, a_u, a_p);
  }
  if (e->b_in && !b_ready) {
    b_p = memory(e->b_md, eng, dnnl_thread_buffer(1, e->b_md.get_size()));
    e->b_in->execute(s, b_u, b_p);
  }
  const bool convert_c = e->c_out && !c_raw;
  if (convert_c) c_p = memory(e->c_md, eng, dnnl_thread_buffer(2, e->c_md.get_size()));
  memory scratch(e->scratch_md, eng, dnnl_thread_buffer(3, e->scratch_md.get_size()));
  e->prim.execute(
      s, {{e->a_arg, a_p}, {e->b_arg, b_p}, {e->c_arg, c_p}, {DNNL_ARG_SCRATCHPAD, scratch}});
  if (convert_c) e->c_out->execute(s, c_p, c_u);
  s.wait();
}

// Runs a reorder on the calling thread, waiting for it.
void reorder_now(const dnnl::reorder& r, const memory::desc& from, const void* src,
                 const memory::desc& to, void* dst) {
  dnnl_sync_threads();
  auto& eng = dnnl_cpu_engine();
  auto& s = dnnl_cpu_stream();
  memory in(from, eng, const_cast<void*>(src)), out(to, eng, dst);
  r.execute(s, in, out);
  s.wait();
}

std::shared_ptr<Entry> make_forward(const DnnlConv& g) {
  const Descs d = descs(g, Dir::Forward);
  auto pd = forward_pd(d, false);
  return finish<dnnl::convolution_forward>(pd, DNNL_ARG_SRC, d.src, pd.src_desc(), DNNL_ARG_WEIGHTS,
                                           d.wei, pd.weights_desc(), DNNL_ARG_DST, d.dst,
                                           pd.dst_desc());
}

std::shared_ptr<Entry> make_backward_data(const DnnlConv& g) {
  const Descs d = descs(g, Dir::BackwardData);
  const bool plain = few_channels(g.c, g);
  auto hint = forward_pd(descs(g, Dir::Forward), plain);
  dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct,
                                             plain ? d.src : d.src_p, plain ? d.wei : d.wei_p,
                                             plain ? d.dst : d.dst_p, d.strides, d.dil, d.pl, d.pr);
  dnnl::convolution_backward_data::primitive_desc pd(desc, dnnl_user_scratchpad_attr(),
                                                     dnnl_cpu_engine(), hint);
  return finish<dnnl::convolution_backward_data>(pd, DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(),
                                                 DNNL_ARG_WEIGHTS, d.wei, pd.weights_desc(),
                                                 DNNL_ARG_DIFF_SRC, d.src, pd.diff_src_desc());
}

std::shared_ptr<Entry> make_backward_weights(const DnnlConv& g) {
  const Descs d = descs(g, Dir::BackwardWeights);
  auto hint = forward_pd(descs(g, Dir::Forward), false);
  dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src_p,
                                                d.wei_p, d.dst_p, d.strides, d.dil, d.pl, d.pr);
  dnnl::convolution_backward_weights::primitive_desc pd(desc, dnnl_user_scratchpad_attr(),
                                                        dnnl_cpu_engine(), hint);
  return finish<dnnl::convolution_backward_weights>(
      pd, DNNL_ARG_SRC, d.src, pd.src_desc(), DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(),
      DNNL_ARG_DIFF_WEIGHTS, d.wei, pd.diff_weights_desc());
}

// The primitives for the batch chunks of g (a full chunk and the shorter last
// one); either is null when oneDNN has no implementation.
struct Chunks {
  int64_t grain;
  std::shared_ptr<const Entry> full, last;
  bool ok() const { return full && last; }
  const Entry* of(int64_t b0, int64_t b1) const { return (b1 - b0 == grain ? full : last).get(); }
  // Whether the filters (input b) are converted to the primitives' layout
  // once per call rather than once per chunk.
  bool weights_once(int64_t n) const { return n > grain && full->b_in && full->b_md == last->b_md; }
  // The filters in the primitives' layout, in the calling thread's buffer 4.
  const void* reorder_weights(const void* wt) const {
    void* buf = dnnl_thread_buffer(4, full->b_md.get_size());
    reorder_now(*full->b_in, full->b_user, wt, full->b_md, buf);
    return buf;
  }
};

Chunks chunks(const char* dir, std::shared_ptr<Entry> (*make)(const DnnlConv&), const DnnlConv& g) {
  Chunks c;
  c.grain = dnnl_batch_grain(g.n);
  auto get = [&](int64_t n) {
    DnnlConv sub = g;
    sub.n = n;
    return cache().get(key(dir, sub), [&] { return make(sub); });
  };
  c.full = get(c.grain);
  c.last = g.n % c.grain ? get(g.n % c.grain) : c.full;
  return c;
}

}  // namespace

namespace {

// bfloat16 with a few input channels per group is slower than float32 (one
// 28x28 channel into 32: forward 2.5 ms against 0.7 ms on 64 images), so
// those inputs take the float32 kernels after conversion.
bool bf16_declined(const DnnlConv& g) {
  return g.bf16 && few_channels(g.c, g);
}

// Byte offsets of batch element b in an input (of g's dtype) and in a float32 output.
const char* in_at(const void* p, int64_t b, int64_t per_item, const DnnlConv& g) {
  return static_cast<const char*>(p) + b * per_item * (g.bf16 ? 2 : 4);
}

}  // namespace

bool dnnl_conv_forward(const DnnlConv& g, const void* x, const void* wt, float* y) {
  if (bf16_declined(g)) return false;
  const Chunks c = chunks("conv_fwd", make_forward, g);
  if (!c.ok()) return false;
  const int64_t xs = g.c * g.h * g.w, ys = g.oc * g.oh * g.ow;
  const bool ready = c.weights_once(g.n);
  const void* w = ready ? c.reorder_weights(wt) : wt;
  dnnl_for_batch(g.n, [&](int64_t b0, int64_t b1) {
    run(c.of(b0, b1), in_at(x, b0, xs, g), w, y + b0 * ys, ready);
  });
  dnnl_count_run();
  return true;
}

bool dnnl_conv_backward_data(const DnnlConv& g, const void* wt, const void* gy, float* gx) {
  if (bf16_declined(g)) return false;
  const Chunks c = chunks("conv_bwd_data", make_backward_data, g);
  if (!c.ok()) return false;
  const int64_t xs = g.c * g.h * g.w, ys = g.oc * g.oh * g.ow;
  const bool ready = c.weights_once(g.n);
  const void* w = ready ? c.reorder_weights(wt) : wt;
  dnnl_for_batch(g.n, [&](int64_t b0, int64_t b1) {
    run(c.of(b0, b1), in_at(gy, b0, ys, g), w, gx + b0 * xs, ready);
  });
  dnnl_count_run();
  return true;
}

bool dnnl_conv_backward_weights(const DnnlConv& g, const void* x, const void* gy, float* gw) {
  if (bf16_declined(g)) return false;
  const Chunks c = chunks("conv_bwd_weights", make_backward_weights, g);
  if (!c.ok()) return false;
  const int64_t xs = g.c * g.h * g.w, ys = g.oc * g.oh * g.ow;
  const int64_t nchunks = (g.n + c.grain - 1) / c.grain,
                wsize = g.oc * (g.c / g.groups) * g.kh * g.kw;
  if (nchunks == 1) {
    dnnl_for_batch(g.n, [&](int64_t b0, int64_t b1) {
      run(c.of(b0, b1), in_at(x, b0, xs, g), in_at(gy, b0, ys, g), gw);
    });
    dnnl_count_run();
    return true;
  }
  // Each chunk's gradient goes to a slice of its own, in the primitive's
  // layout; they are summed in chunk order (the bits do not depend on which
  // thread ran which chunk), and converted to the user's layout once.
  const bool raw = c.full->c_out && c.full->c_md == c.last->c_md;
  const int64_t psize = raw ? int64_t(c.full->c_md.get_size() / sizeof(float)) : wsize;
  // The calling thread's buffers (reused, not zeroed): 5 the parts, 4 their sum.
  float* parts =
      static_cast<float*>(dnnl_thread_buffer(5, size_t(nchunks * psize) * sizeof(float)));
  dnnl_for_batch(g.n, [&](int64_t b0, int64_t b1) {
    run(c.of(b0, b1), in_at(x, b0, xs, g), in_at(gy, b0, ys, g), parts + (b0 / c.grain) * psize,
        false, raw);
  });
  float* sum = raw ? static_cast<float*>(dnnl_thread_buffer(4, size_t(psize) * sizeof(float))) : gw;
  parallel_for(psize, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float acc = parts[i];
      for (int64_t k = 1; k < nchunks; ++k) acc += parts[k * psize + i];
      sum[i] = acc;
    }
  });
  if (raw) reorder_now(*c.full->c_out, c.full->c_md, sum, c.full->c_user, gw);
  dnnl_count_run();
  return true;
}

}  // namespace theon::cpu
