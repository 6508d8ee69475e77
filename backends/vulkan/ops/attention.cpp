// FlashAttn: shaders/flash_attn.comp scores and accumulates one (key split, query head, token)
// per workgroup; with more than one split, shaders/flash_attn_reduce.comp merges the splits'
// partial softmax states from a scratch buffer. Splits are added when there are few (head,
// token) units to keep a GPU busy (decode), and whenever one workgroup would walk more than
// kMaxTilesPerGroup key tiles (lavapipe's loop limit).
#include <algorithm>
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

constexpr uint32_t kMaxHeadSize = 256;       // MAX_D in the shader (q in shared memory)
constexpr uint64_t kTargetGroups = 512;      // workgroups wanted before splitting stops
constexpr uint64_t kMaxTilesPerGroup = 128;  // ~140 loop trips per tile stays far below 65535

struct FlashAttnPush {
    uint32_t q_off, q_nb1, q_nb2;
    uint32_t k_off, k_nb1, k_nb2;
    uint32_t v_off, v_nb1, v_nb2;
    uint32_t o_off, o_nb1, o_nb2;
    uint32_t pos_off;
    uint32_t d, dv;
    uint32_t hq;
    uint32_t group;
    uint32_t n_kv;
    uint32_t splits;
    float scale;
    uint32_t causal;
    int32_t window;
};
static_assert(sizeof(FlashAttnPush) == 88);

struct ReducePush {
    uint32_t part_off;
    uint32_t o_off, o_nb1, o_nb2;
    uint32_t dv;
    uint32_t hq;
    uint32_t splits;
};
static_assert(sizeof(ReducePush) == 28);

// The shader's K/V type code (spec constants 1 and 2); -1 when it cannot read the type.
int kv_type_code(DType t) {
    switch (t) {
        case DType::F32: return 0;
        case DType::F16: return 1;
        case DType::BF16: return 2;
        default: return -1;
    }
}


struct Plan {
    uint32_t splits = 1;
    uint64_t partial_bytes = 0;  // scratch for the splits' (m, l, acc[dv]) records
};

// `tile`: keys per tile (the device class's attention_tile).
Plan plan_for(const Tensor& q, const Tensor& k, const Tensor& v, uint64_t tile) {
    const uint64_t units = static_cast<uint64_t>(q.ne[1]) * static_cast<uint64_t>(q.ne[2]);
    const uint64_t tiles = std::max<uint64_t>(1, (static_cast<uint64_t>(k.ne[2]) + tile - 1) / tile);
    uint64_t splits = 1;
    if (units < kTargetGroups) splits = std::min(tiles, (kTargetGroups + units - 1) / units);
    splits = std::max(splits, (tiles + kMaxTilesPerGroup - 1) / kMaxTilesPerGroup);
    Plan p;
    p.splits = static_cast<uint32_t>(splits);
    if (splits > 1) p.partial_bytes = splits * units * static_cast<uint64_t>(v.ne[0] + 2) * sizeof(float);
    return p;
}

}  // namespace

bool supports_flash_attn(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::FlashAttn) return false;
    const Tensor& q = g.tensor(n.src[0]);
    const Tensor& k = g.tensor(n.src[1]);
    const Tensor& v = g.tensor(n.src[2]);
    const Tensor& o = g.tensor(n.dst);
    if (q.type != DType::F32 || kv_type_code(k.type) < 0 || kv_type_code(v.type) < 0) return false;
    if (q.ne[3] != 1 || k.ne[3] != 1 || v.ne[3] != 1) return false;
    const int64_t d = q.ne[0], dv = v.ne[0];
    // Whole vec4s of q, k and v; q fits the shader's shared array; dv / 4 columns fit the group.
    const uint32_t tile = info.shapes.attention_tile;
    if (d % 4 != 0 || dv % 4 != 0 || d > kMaxHeadSize || dv / 4 > tile) return false;
    // Q, K and V are read as 32-bit words (K and V also when 16-bit).
    for (TensorId t : {n.src[0], n.src[1], n.src[2]}) {
        if (!rows_word_aligned(g, t)) return false;
    }
    if (info.max_workgroup_size[0] < tile || info.max_workgroup_invocations < tile) return false;
    const Plan plan = plan_for(q, k, v, tile);
    if (plan.splits > info.max_workgroup_count[0] || q.ne[1] > info.max_workgroup_count[1] ||
        q.ne[2] > info.max_workgroup_count[2] || q.ne[1] > info.max_workgroup_count[0] ||
        q.ne[2] > info.max_workgroup_count[1]) {  // the reduce's grid is (h, t)
        return false;
    }
    // Byte offsets are 32-bit in the shaders; each binding must fit one storage-buffer range.
    for (const Tensor* t : {&q, &k, &v, &o}) {
        if (!binding_fits(t->n_bytes(), info)) return false;
    }
    return binding_fits(plan.partial_bytes, info);
}

void record_flash_attn(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& q = g.tensor(n.src[0]);
    const Tensor& k = g.tensor(n.src[1]);
    const Tensor& v = g.tensor(n.src[2]);
    const Tensor& o = g.tensor(n.dst);
    const Plan plan = plan_for(q, k, v, r.info().shapes.attention_tile);
    const auto u32 = [](auto x) { return static_cast<uint32_t>(x); };

    const TensorBinding bq = r.bind(n.src[0]);
    const TensorBinding bk = r.bind(n.src[1]);
    const TensorBinding bv = r.bind(n.src[2]);
    const TensorBinding bpos = r.bind(n.src[3]);
    const TensorBinding bo = r.bind(n.dst);

    FlashAttnPush push{};
    push.q_off = bq.offset, push.q_nb1 = u32(q.nb[1]), push.q_nb2 = u32(q.nb[2]);
    push.k_off = bk.offset, push.k_nb1 = u32(k.nb[1]), push.k_nb2 = u32(k.nb[2]);
    push.v_off = bv.offset, push.v_nb1 = u32(v.nb[1]), push.v_nb2 = u32(v.nb[2]);
    push.o_off = bo.offset, push.o_nb1 = u32(o.nb[1]), push.o_nb2 = u32(o.nb[2]);
    push.pos_off = bpos.offset;
    push.d = u32(q.ne[0]), push.dv = u32(v.ne[0]);
    push.hq = u32(q.ne[1]);
    push.group = u32(q.ne[1] / k.ne[1]);
    push.n_kv = u32(k.ne[2]);
    push.splits = plan.splits;
    push.scale = n.params.scale;
    push.causal = n.params.causal ? 1u : 0u;
    push.window = n.params.window;

    const ComputePipeline& attn = r.pipeline(
        {.shader = "flash_attn",
         .storage_buffers = 5,
         .push_constant_bytes = sizeof(FlashAttnPush),
         .spec_constants = {r.info().shapes.attention_tile, u32(kv_type_code(k.type)), u32(kv_type_code(v.type))}});
    if (plan.splits == 1) {
        const std::array bindings{bq, bk, bv, bpos, bo};
        r.dispatch(attn, bindings, push, 1, push.hq, u32(q.ne[2]));
        return;
    }

    const TensorBinding partials = r.scratch(plan.partial_bytes);
    push.o_off = partials.offset;
    const std::array bindings{bq, bk, bv, bpos, partials};
    r.dispatch(attn, bindings, push, plan.splits, push.hq, u32(q.ne[2]));
    r.barrier();

    const ReducePush reduce_push{partials.offset, bo.offset, u32(o.nb[1]), u32(o.nb[2]), push.dv, push.hq, plan.splits};
    const ComputePipeline& reduce = r.pipeline({.shader = "flash_attn_reduce",
                                                .storage_buffers = 2,
                                                .push_constant_bytes = sizeof(ReducePush),
                                                .spec_constants = {r.info().shapes.attention_reduce_workgroup}});
    const std::array reduce_bindings{partials, bo};
    r.dispatch(reduce, reduce_bindings, reduce_push, push.hq, u32(q.ne[2]));
}

}  // namespace kiln::vk
