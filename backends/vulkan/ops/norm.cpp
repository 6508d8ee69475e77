// RmsNorm and Norm (shaders/norm.comp): one workgroup per row, the row spread over its
// invocations and reduced in shared memory; a is an f32 / f16 / bf16 view of any row strides.
// Also the fused rms_norm + mul by a weight row (backends/vulkan/fusion.h).
#include <algorithm>
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct NormPush {  // norm.comp's Params
    uint32_t ne0, ne1, ne2;
    uint32_t rows;
    ElementLayout a;
    float eps;
};
static_assert(sizeof(NormPush) == 10 * 4);

struct NormMulPush {  // norm.comp's Params with MUL_WEIGHT
    NormPush norm;
    uint32_t w_offset, w_type;
};
static_assert(sizeof(NormMulPush) == 12 * 4);

// Enough invocations that a long row (8192 and more) takes each only a few dozen steps, few
// enough that short rows do not leave most of them idle.
uint32_t workgroup_for(const DeviceInfo& info, int64_t row) {
    return row_workgroup_size(info, static_cast<uint32_t>(std::clamp<int64_t>(row / 4, 32, 512)));
}

}  // namespace

bool supports_norm(const Graph& g, const Node& n, const DeviceInfo& info) {
    if ((n.op != Op::RmsNorm && n.op != Op::Norm) || !info.storage_16bit) return false;
    const Tensor& d = g.tensor(n.dst);
    if (d.type != DType::F32 || !d.is_contiguous() || !addressable(g, n.dst, info)) return false;
    // The workgroup's shared-memory tree holds one float per invocation.
    if (workgroup_for(info, d.ne[0]) * sizeof(float) > info.max_shared_memory) return false;
    return addressable(g, n.src[0], info) && g.tensor(n.src[0]).ne == d.ne;
}

bool supports_rms_norm_mul(const Graph& g, const Node& norm, const Node& mul, const DeviceInfo& info) {
    if (norm.op != Op::RmsNorm || mul.op != Op::Mul || mul.src[0] != norm.dst) return false;
    if (!supports_norm(g, norm, info) || !supports_elementwise(g, mul, info)) return false;
    // The weight is one contiguous row as long as the normalised rows (a norm weight).
    const Tensor& w = g.tensor(mul.src[1]);
    const Tensor& d = g.tensor(norm.dst);
    return w.ne[0] == d.ne[0] && w.ne[1] * w.ne[2] * w.ne[3] == 1 && addressable(g, mul.src[1], info);
}

void record_rms_norm_mul(OpRecorder& r, const Node& norm, const Node& mul) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(norm.src[0]);
    const Tensor& w = g.tensor(mul.src[1]);
    const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
    const uint32_t wg = workgroup_for(r.info(), a.ne[0]);
    const TensorBinding a_bind = r.bind(norm.src[0]);
    const TensorBinding w_bind = r.bind(mul.src[1]);
    const ElementLayout wl = element_layout(w, w_bind);
    const NormMulPush push{{u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]), u32(a.n_rows()), element_layout(a, a_bind),
                            norm.params.eps},
                           wl.offset,
                           wl.type};
    const ComputePipeline& p = r.pipeline({"norm_rms_mul", 3, sizeof(NormMulPush), {wg}});
    const std::array bindings{a_bind, r.bind(mul.dst), w_bind};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.n_rows()), 1));
}

void record_norm(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
    const uint32_t wg = workgroup_for(r.info(), a.ne[0]);
    const TensorBinding a_bind = r.bind(n.src[0]);
    const NormPush push{u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]), u32(a.n_rows()), element_layout(a, a_bind),
                        n.params.eps};
    const char* shader = n.op == Op::RmsNorm ? "norm_rms" : "norm_mean";
    const ComputePipeline& p = r.pipeline({shader, 2, sizeof(NormPush), {wg}});
    const std::array bindings{a_bind, r.bind(n.dst)};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.n_rows()), 1));
}

}  // namespace kiln::vk
