// The Binary family (shaders/binary.comp) and the Unary family (shaders/unary.comp): one
// invocation per output element; inputs are f32 / f16 / bf16 views of any strides, b of a
// binary op broadcast over a.
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"
#include "graph/op_traits.h"

namespace kiln::vk {
namespace {

struct BinaryPush {  // binary.comp's Params
    uint32_t n;
    uint32_t ne0, ne1, ne2;
    ElementLayout a;
    uint32_t b_ne0, b_ne1, b_ne2, b_ne3;
    ElementLayout b;
};
static_assert(sizeof(BinaryPush) == 18 * 4);

struct UnaryPush {  // unary.comp's Params
    uint32_t n;
    uint32_t ne0, ne1, ne2;
    ElementLayout a;
    float scale;
};
static_assert(sizeof(UnaryPush) == 10 * 4);

const char* shader_of(Op op) {
    switch (op) {
        case Op::Add: return "binary_add";
        case Op::Mul: return "binary_mul";
        case Op::SwiGLU: return "binary_swiglu";
        case Op::Scale: return "unary_scale";
        case Op::Silu: return "unary_silu";
        case Op::Gelu: return "unary_gelu";
        case Op::Sigmoid: return "unary_sigmoid";
        default: return nullptr;
    }
}

bool is_binary(Op op) { return op_traits(op).family == OpFamily::Binary; }

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

}  // namespace

bool supports_elementwise(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (!shader_of(n.op) || !info.storage_16bit) return false;
    const Tensor& d = g.tensor(n.dst);
    if (d.type != DType::F32 || !d.is_contiguous() || !addressable(g, n.dst, info)) return false;
    if (!addressable(g, n.src[0], info) || g.tensor(n.src[0]).ne != d.ne) return false;
    if (!is_binary(n.op)) return true;
    const Tensor& b = g.tensor(n.src[1]);
    for (int i = 0; i < kMaxDims; ++i) {
        if (d.ne[i] % b.ne[i] != 0) return false;
    }
    return addressable(g, n.src[1], info);
}

void record_elementwise(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& d = g.tensor(n.dst);
    const Tensor& a = g.tensor(n.src[0]);
    const uint32_t wg = flat_workgroup_size(r.info());
    const uint32_t groups = grid_groups(r.info(), static_cast<uint64_t>(d.n_elements()), wg);
    const TensorBinding a_bind = r.bind(n.src[0]);
    const TensorBinding d_bind = r.bind(n.dst);
    if (is_binary(n.op)) {
        const Tensor& b = g.tensor(n.src[1]);
        const TensorBinding b_bind = r.bind(n.src[1]);
        const BinaryPush push{u32(d.n_elements()), u32(d.ne[0]), u32(d.ne[1]), u32(d.ne[2]), element_layout(a, a_bind),
                              u32(b.ne[0]), u32(b.ne[1]), u32(b.ne[2]), u32(b.ne[3]), element_layout(b, b_bind)};
        const ComputePipeline& p = r.pipeline({shader_of(n.op), 3, sizeof(BinaryPush), {wg}});
        const std::array bindings{a_bind, b_bind, d_bind};
        r.dispatch(p, bindings, push, groups);
        return;
    }
    const UnaryPush push{u32(d.n_elements()), u32(d.ne[0]), u32(d.ne[1]), u32(d.ne[2]), element_layout(a, a_bind),
                         n.params.scale};
    const ComputePipeline& p = r.pipeline({shader_of(n.op), 2, sizeof(UnaryPush), {wg}});
    const std::array bindings{a_bind, d_bind};
    r.dispatch(p, bindings, push, groups);
}

}  // namespace kiln::vk
