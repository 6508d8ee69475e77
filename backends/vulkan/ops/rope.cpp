// Rope: shaders/rope.comp, one invocation per rotated pair (or two pass-through values),
// grid-strided over every row of x. x may be a strided view; the output is packed. Fused with
// the set_rows that writes its rows into a KV cache (rope_set_rows), the rows go straight into
// the cache.
#include <algorithm>
#include <array>
#include <cmath>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

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

uint32_t rope_groups(const OpRecorder& r, const Graph& g, const Node& n) {
    const uint32_t wg = r.info().shapes.rope_workgroup;
    const uint64_t groups = (item_count(g.tensor(n.src[0]), n.params.rope.n_dims) + wg - 1) / wg;
    return u32(std::clamp<uint64_t>(groups, 1, r.info().max_workgroup_count[0]));
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

}  // namespace kiln::vk
