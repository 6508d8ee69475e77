// Rope: shaders/rope.comp, one invocation per rotated pair (or two pass-through values),
// grid-strided over every row of x. x may be a strided view; the output is packed. Fused with
// the set_rows that writes its rows into a KV cache (rope_set_rows), the rows go straight into
// the cache.
#include <algorithm>
#include <array>
#include <cmath>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/ops/weight_read.h"

namespace kiln::vk {
namespace {


struct RopePush {
    uint32_t x_off, x_nb1, x_nb2, x_nb3;
    uint32_t y_off, y_nb1, y_nb2, y_nb3;
    uint32_t pos_off, f_off;
    uint32_t ne0, ne1, ne2, ne3;
    uint32_t n_dims;
    uint32_t neox;
    uint32_t has_factors;
    float freq_scale;
    float theta_scale;
};
static_assert(sizeof(RopePush) == 76);

struct RopeSetRowsPush {  // rope.comp's Params with SET_ROWS
    RopePush rope;
    uint32_t ids_off;
    uint32_t d_off, d_nb1, d_type;
    uint32_t dst_rows;
};
static_assert(sizeof(RopeSetRowsPush) == 96);

struct RopeQkvPush {  // rope.comp's Params with QKV
    uint32_t pos_off, f_off;
    uint32_t ne0, ne2;
    uint32_t n_dims, neox, has_factors;
    float freq_scale, theta_scale;
    uint32_t ids_off;
    uint32_t q_off, q_nb1, q_nb2, q_heads;
    uint32_t y_off;
    uint32_t k_off, k_nb1, k_nb2, k_heads;
    uint32_t kc_off, kc_nb1, kc_type, kc_rows;
    uint32_t v_off, v_nb1, v_len;
    uint32_t vc_off, vc_nb1, vc_type, vc_rows;
};
static_assert(sizeof(RopeQkvPush) == 120);

// Work items: a rotated pair or two pass-through values per item.
uint64_t item_count(const Tensor& x, int64_t n_dims) {
    const auto per_row = static_cast<uint64_t>(n_dims / 2 + (x.ne[0] - n_dims + 1) / 2);
    return per_row * static_cast<uint64_t>(x.n_rows());
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

// The push constants of `n`, with y's strides from `y` (the rope's output or, fused, the rows
// it stands for).
RopePush rope_push(const Graph& g, const Node& n, const TensorBinding& bx, const TensorBinding& bpos,
                   const TensorBinding& bf, const TensorBinding* by) {
    const Tensor& x = g.tensor(n.src[0]);
    const Tensor& y = g.tensor(n.dst);
    const RopeParams& rp = n.params.rope;
    RopePush push{};
    push.x_off = bx.offset, push.x_nb1 = u32(x.nb[1]), push.x_nb2 = u32(x.nb[2]), push.x_nb3 = u32(x.nb[3]);
    if (by) {
        push.y_off = by->offset, push.y_nb1 = u32(y.nb[1]), push.y_nb2 = u32(y.nb[2]), push.y_nb3 = u32(y.nb[3]);
    }
    push.pos_off = bpos.offset;
    push.f_off = bf.offset;
    push.ne0 = u32(x.ne[0]), push.ne1 = u32(x.ne[1]), push.ne2 = u32(x.ne[2]), push.ne3 = u32(x.ne[3]);
    push.n_dims = u32(rp.n_dims);
    push.neox = rp.mode == RopeMode::Neox ? 1u : 0u;
    push.has_factors = n.src[2] != kNoTensor ? 1u : 0u;
    push.freq_scale = rp.freq_scale;
    // Exactly the CPU backend's per-pair ratio, so both compute the same f32 angles.
    push.theta_scale = std::pow(rp.freq_base, -2.0f / static_cast<float>(rp.n_dims));
    return push;
}

// Workgroups for `items` work items (the shader grid-strides past the device's limit).
uint32_t rope_groups(const OpRecorder& r, uint64_t items) {
    const uint32_t wg = r.info().shapes.rope_workgroup;
    return u32(std::clamp<uint64_t>((items + wg - 1) / wg, 1, r.info().max_workgroup_count[0]));
}

uint32_t rope_groups(const OpRecorder& r, const Graph& g, const Node& n) {
    return rope_groups(r, item_count(g.tensor(n.src[0]), n.params.rope.n_dims));
}

}  // namespace

bool supports_rope(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::Rope) return false;
    const Tensor& x = g.tensor(n.src[0]);
    const Tensor& pos = g.tensor(n.src[1]);
    const Tensor& y = g.tensor(n.dst);
    const RopeParams& rp = n.params.rope;
    if (x.type != DType::F32 || !x.rows_contiguous() || pos.type != DType::I32 || y.type != DType::F32) return false;
    if (!rows_word_aligned(g, n.src[0])) return false;
    if (n.src[2] != kNoTensor) {
        const Tensor& f = g.tensor(n.src[2]);
        if (f.type != DType::F32 || f.ne[0] != rp.n_dims / 2 || f.nb[0] != sizeof(float)) return false;
    }
    const uint32_t wg = info.shapes.rope_workgroup;
    if (info.max_workgroup_size[0] < wg || info.max_workgroup_invocations < wg) return false;
    // 32-bit byte offsets and item indices in the shader; each binding within one range.
    if (item_count(x, rp.n_dims) > UINT32_MAX) return false;
    return binding_fits(x.n_bytes(), info) && binding_fits(y.n_bytes(), info);
}

void record_rope(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const TensorBinding bx = r.bind(n.src[0]);
    const TensorBinding bpos = r.bind(n.src[1]);
    const TensorBinding bf = n.src[2] != kNoTensor ? r.bind(n.src[2]) : bpos;  // unread without factors
    const TensorBinding by = r.bind(n.dst);
    const RopePush push = rope_push(g, n, bx, bpos, bf, &by);
    const ComputePipeline& pipe = r.pipeline({.shader = "rope",
                                              .storage_buffers = 4,
                                              .push_constant_bytes = sizeof(RopePush),
                                              .spec_constants = {r.info().shapes.rope_workgroup}});
    const std::array bindings{bx, bpos, bf, by};
    r.dispatch(pipe, bindings, push, rope_groups(r, g, n));
}

bool supports_rope_set_rows(const Graph& g, const Node& rope, const Node& set_rows, const DeviceInfo& info) {
    if (rope.op != Op::Rope || set_rows.op != Op::SetRows) return false;
    if (!supports_rope(g, rope, info) || !supports_rows(g, set_rows, info)) return false;
    // The cache rows are the rope's output rows of each token, its heads side by side.
    const Tensor& y = g.tensor(rope.dst);
    const Tensor& a = g.tensor(set_rows.src[0]);
    return g.storage_of(set_rows.src[0]) == rope.dst && a.view_offset == 0 && y.is_contiguous() && y.ne[3] == 1 &&
           a.is_contiguous() && a.ne[0] == y.ne[0] * y.ne[1] && a.ne[1] == y.ne[2] && a.type == DType::F32 &&
           g.tensor(set_rows.src[1]).ne[0] == y.ne[2];
}

void record_rope_set_rows(OpRecorder& r, const Node& rope, const Node& set_rows) {
    const Graph& g = r.graph();
    const TensorBinding bx = r.bind(rope.src[0]);
    const TensorBinding bpos = r.bind(rope.src[1]);
    const TensorBinding bf = rope.src[2] != kNoTensor ? r.bind(rope.src[2]) : bpos;
    const TensorBinding bd = r.bind(set_rows.dst);
    const TensorBinding bids = r.bind(set_rows.src[1]);
    const Tensor& d = g.tensor(set_rows.dst);
    const ElementLayout dl = element_layout(d, bd);
    const RopeSetRowsPush push{rope_push(g, rope, bx, bpos, bf, nullptr), bids.offset / 4, dl.offset,
                               u32(d.nb[1] / element_bytes(d.type)), dl.type, u32(d.ne[1])};
    const ComputePipeline& pipe = r.pipeline({.shader = "rope_set_rows",
                                              .storage_buffers = 5,
                                              .push_constant_bytes = sizeof(RopeSetRowsPush),
                                              .spec_constants = {r.info().shapes.rope_workgroup}});
    const std::array bindings{bx, bpos, bf, bd, bids};
    r.dispatch(pipe, bindings, push, rope_groups(r, g, rope));
}

bool supports_rope_qkv(const Graph& g, std::span<const Node> run, const DeviceInfo& info) {
    if (run.size() < 4) return false;
    const Node& rq = run[0];
    const Node& rk = run[1];
    const Node& sk = run[2];
    const Node& sv = run[3];
    if (rq.op != Op::Rope || sv.op != Op::SetRows || !supports_rope(g, rq, info)) return false;
    if (!supports_rope_set_rows(g, rk, sk, info) || !supports_rows(g, sv, info)) return false;
    // One rotation for both: the same positions, factors, parameters and head size.
    const RopeParams& a = rq.params.rope;
    const RopeParams& b = rk.params.rope;
    if (rq.src[1] != rk.src[1] || rq.src[2] != rk.src[2] || a.n_dims != b.n_dims || a.mode != b.mode ||
        a.freq_base != b.freq_base || a.freq_scale != b.freq_scale) {
        return false;
    }
    const Tensor& q = g.tensor(rq.src[0]);
    const Tensor& k = g.tensor(rk.src[0]);
    const Tensor& y = g.tensor(rq.dst);
    if (q.ne[0] != k.ne[0] || q.ne[2] != k.ne[2] || q.ne[3] != 1 || !y.is_contiguous()) return false;
    // v's rows (one per token, f32, contiguous) go to the rows k's go to.
    const Tensor& v = g.tensor(sv.src[0]);
    return sv.src[1] == sk.src[1] && v.type == DType::F32 && v.rows_contiguous() && v.ne[1] == q.ne[2] &&
           v.nb[0] == 4 && unit_aligned(g, sv.src[0], 4) && binding_fits(v.n_bytes(), info);
}

void record_rope_qkv(OpRecorder& r, std::span<const Node> run) {
    const Graph& g = r.graph();
    const Node& rq = run[0];
    const Node& rk = run[1];
    const Node& sk = run[2];
    const Node& sv = run[3];
    const TensorBinding bq = r.bind(rq.src[0]);
    const TensorBinding bpos = r.bind(rq.src[1]);
    const TensorBinding bf = rq.src[2] != kNoTensor ? r.bind(rq.src[2]) : bpos;
    const TensorBinding by = r.bind(rq.dst);
    const TensorBinding bk = r.bind(rk.src[0]);
    const TensorBinding bkc = r.bind(sk.dst);
    const TensorBinding bids = r.bind(sk.src[1]);
    const TensorBinding bv = r.bind(sv.src[0]);
    const TensorBinding bvc = r.bind(sv.dst);
    const Tensor& q = g.tensor(rq.src[0]);
    const Tensor& k = g.tensor(rk.src[0]);
    const Tensor& v = g.tensor(sv.src[0]);
    const Tensor& kc = g.tensor(sk.dst);
    const Tensor& vc = g.tensor(sv.dst);
    const RopePush base = rope_push(g, rq, bq, bpos, bf, nullptr);
    const ElementLayout kl = element_layout(kc, bkc);
    const ElementLayout vl = element_layout(vc, bvc);
    RopeQkvPush p{};
    p.pos_off = base.pos_off, p.f_off = base.f_off;
    p.ne0 = u32(q.ne[0]), p.ne2 = u32(q.ne[2]);
    p.n_dims = base.n_dims, p.neox = base.neox, p.has_factors = base.has_factors;
    p.freq_scale = base.freq_scale, p.theta_scale = base.theta_scale;
    p.ids_off = bids.offset / 4;
    p.q_off = bq.offset, p.q_nb1 = u32(q.nb[1]), p.q_nb2 = u32(q.nb[2]), p.q_heads = u32(q.ne[1]);
    p.y_off = by.offset;
    p.k_off = bk.offset, p.k_nb1 = u32(k.nb[1]), p.k_nb2 = u32(k.nb[2]), p.k_heads = u32(k.ne[1]);
    p.kc_off = kl.offset, p.kc_nb1 = u32(kc.nb[1] / element_bytes(kc.type)), p.kc_type = kl.type;
    p.kc_rows = u32(kc.ne[1]);
    p.v_off = bv.offset, p.v_nb1 = u32(v.nb[1]), p.v_len = u32(v.ne[0]);
    p.vc_off = vl.offset, p.vc_nb1 = u32(vc.nb[1] / element_bytes(vc.type)), p.vc_type = vl.type;
    p.vc_rows = u32(vc.ne[1]);
    const ComputePipeline& pipe = r.pipeline({.shader = "rope_qkv",
                                              .storage_buffers = 9,
                                              .push_constant_bytes = sizeof(RopeQkvPush),
                                              .spec_constants = {r.info().shapes.rope_workgroup}});
    const std::array bindings{bq, bpos, bf, by, bk, bkc, bids, bv, bvc};
    const uint64_t items = item_count(q, rq.params.rope.n_dims) + item_count(k, rk.params.rope.n_dims) +
                           static_cast<uint64_t>(v.ne[0] * v.ne[1]);
    r.dispatch(pipe, bindings, p, rope_groups(r, items));
}

}  // namespace kiln::vk
