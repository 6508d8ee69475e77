// Softmax: shaders/softmax.comp, one workgroup per row (grid-strided over rows), sized to the
// row: small groups for short rows (attention scores of a few keys), 512 invocations for
// vocabulary-sized rows so each invocation walks at most a few hundred values per pass.
#include <algorithm>
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct SoftmaxPush {
    uint32_t a_off, a_nb1, a_nb2, a_nb3;
    uint32_t o_off, o_nb1, o_nb2, o_nb3;
    uint32_t m_off, m_nb1;
    uint32_t ne0, ne1, ne2, ne3;
    uint32_t m_ne1;
    uint32_t has_mask;
    float scale;
};
static_assert(sizeof(SoftmaxPush) == 68);

// The shader's mask type code (spec constant 1); -1 when it cannot read the type.
int mask_type_code(DType t) {
    switch (t) {
        case DType::F32: return 0;
        case DType::F16: return 1;
        case DType::BF16: return 2;
        default: return -1;
    }
}

// A power of two (the shader's tree reduction needs one) that the device allows.
uint32_t group_size(int64_t row, const DeviceInfo& info) {
    uint32_t size = row >= 8192 ? 512 : row >= 1024 ? 256 : 64;
    const uint32_t limit = std::min(info.max_workgroup_size[0], info.max_workgroup_invocations);
    while (size > limit) size /= 2;
    return size;
}


}  // namespace

bool supports_softmax(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::Softmax) return false;
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& o = g.tensor(n.dst);
    if (a.type != DType::F32 || !a.rows_contiguous() || o.type != DType::F32 || !rows_word_aligned(g, n.src[0])) return false;
    if (n.src[1] != kNoTensor) {
        const Tensor& m = g.tensor(n.src[1]);
        if (mask_type_code(m.type) < 0 || m.ne[0] != a.ne[0] || m.ne[2] * m.ne[3] != 1 || !m.rows_contiguous()) return false;
    }
    if (group_size(a.ne[0], info) < 32) return false;
    // 32-bit byte offsets in the shader; each binding within one range.
    for (TensorId t : {n.src[0], n.src[1], n.dst}) {
        if (t != kNoTensor && !binding_fits(g.tensor(t).n_bytes(), info)) return false;
    }
    return true;
}

void record_softmax(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& o = g.tensor(n.dst);
    const bool has_mask = n.src[1] != kNoTensor;
    const auto u32 = [](auto v) { return static_cast<uint32_t>(v); };

    const TensorBinding ba = r.bind(n.src[0]);
    const TensorBinding bm = has_mask ? r.bind(n.src[1]) : ba;  // unread without a mask
    const TensorBinding bo = r.bind(n.dst);

    SoftmaxPush push{};
    push.a_off = ba.offset, push.a_nb1 = u32(a.nb[1]), push.a_nb2 = u32(a.nb[2]), push.a_nb3 = u32(a.nb[3]);
    push.o_off = bo.offset, push.o_nb1 = u32(o.nb[1]), push.o_nb2 = u32(o.nb[2]), push.o_nb3 = u32(o.nb[3]);
    push.m_off = bm.offset;
    push.m_ne1 = 1;
    uint32_t mask_type = 0;
    if (has_mask) {
        const Tensor& m = g.tensor(n.src[1]);
        push.m_nb1 = u32(m.nb[1]);
        push.m_ne1 = u32(m.ne[1]);
        mask_type = u32(mask_type_code(m.type));
    }
    push.ne0 = u32(a.ne[0]), push.ne1 = u32(a.ne[1]), push.ne2 = u32(a.ne[2]), push.ne3 = u32(a.ne[3]);
    push.has_mask = has_mask ? 1u : 0u;
    push.scale = n.params.scale;

    const ComputePipeline& pipe = r.pipeline({.shader = "softmax",
                                              .storage_buffers = 3,
                                              .push_constant_bytes = sizeof(SoftmaxPush),
                                              .spec_constants = {group_size(a.ne[0], r.info()), mask_type}});
    const auto rows = static_cast<uint64_t>(a.n_rows());
    const std::array bindings{ba, bm, bo};
    r.dispatch(pipe, bindings, push, u32(std::clamp<uint64_t>(rows, 1, r.info().max_workgroup_count[0])));
}

}  // namespace kiln::vk
