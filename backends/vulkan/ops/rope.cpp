// Rope: shaders/rope.comp, one invocation per rotated pair (or two pass-through values),
// grid-strided over every row of x. x may be a strided view; the output is packed.
#include <algorithm>
#include <array>
#include <cmath>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

constexpr uint32_t kGroupSize = 256;

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

// Work items: a rotated pair or two pass-through values per item.
uint64_t item_count(const Tensor& x, int64_t n_dims) {
    const auto per_row = static_cast<uint64_t>(n_dims / 2 + (x.ne[0] - n_dims + 1) / 2);
    return per_row * static_cast<uint64_t>(x.n_rows());
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
    if (info.max_workgroup_size[0] < kGroupSize || info.max_workgroup_invocations < kGroupSize) return false;
    // 32-bit byte offsets and item indices in the shader; each binding within one range.
    if (item_count(x, rp.n_dims) > UINT32_MAX) return false;
    return binding_fits(x.n_bytes(), info) && binding_fits(y.n_bytes(), info);
}

void record_rope(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& x = g.tensor(n.src[0]);
    const Tensor& y = g.tensor(n.dst);
    const RopeParams& rp = n.params.rope;
    const auto u32 = [](auto v) { return static_cast<uint32_t>(v); };
    const bool has_factors = n.src[2] != kNoTensor;

    const TensorBinding bx = r.bind(n.src[0]);
    const TensorBinding bpos = r.bind(n.src[1]);
    const TensorBinding bf = has_factors ? r.bind(n.src[2]) : bpos;  // unread without factors
    const TensorBinding by = r.bind(n.dst);

    RopePush push{};
    push.x_off = bx.offset, push.x_nb1 = u32(x.nb[1]), push.x_nb2 = u32(x.nb[2]), push.x_nb3 = u32(x.nb[3]);
    push.y_off = by.offset, push.y_nb1 = u32(y.nb[1]), push.y_nb2 = u32(y.nb[2]), push.y_nb3 = u32(y.nb[3]);
    push.pos_off = bpos.offset;
    push.f_off = bf.offset;
    push.ne0 = u32(x.ne[0]), push.ne1 = u32(x.ne[1]), push.ne2 = u32(x.ne[2]), push.ne3 = u32(x.ne[3]);
    push.n_dims = u32(rp.n_dims);
    push.neox = rp.mode == RopeMode::Neox ? 1u : 0u;
    push.has_factors = has_factors ? 1u : 0u;
    push.freq_scale = rp.freq_scale;
    // Exactly the CPU backend's per-pair ratio, so both compute the same f32 angles.
    push.theta_scale = std::pow(rp.freq_base, -2.0f / static_cast<float>(rp.n_dims));

    const ComputePipeline& pipe = r.pipeline({.shader = "rope",
                                              .storage_buffers = 4,
                                              .push_constant_bytes = sizeof(RopePush),
                                              .spec_constants = {kGroupSize}});
    const uint64_t groups = (item_count(x, rp.n_dims) + kGroupSize - 1) / kGroupSize;
    const std::array bindings{bx, bpos, bf, by};
    r.dispatch(pipe, bindings, push, u32(std::clamp<uint64_t>(groups, 1, r.info().max_workgroup_count[0])));
}

}  // namespace kiln::vk
