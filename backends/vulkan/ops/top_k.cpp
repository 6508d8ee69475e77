// TopK (shaders/top_k.comp): one workgroup per f32 row, k rounds of a (value, index) tree in
// shared memory, each picking the first element after the previous pick in the reference's
// order (a router's expert choice: rows of 8-128, k of 2-8).
#include <algorithm>
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct TopKPush {  // top_k.comp's Params
    uint32_t ne0, ne1, ne2;
    uint32_t rows;
    uint32_t a_offset, a_nb1, a_nb2, a_nb3;
    uint32_t k;
    uint32_t d_offset;
};
static_assert(sizeof(TopKPush) == 10 * 4);

// Up to a workgroup of the row's length (32..256 invocations).
uint32_t workgroup_for(const DeviceInfo& info, int64_t row) {
    return row_workgroup_size(info, static_cast<uint32_t>(std::clamp<int64_t>(row, 32, 256)));
}

}  // namespace

bool supports_top_k(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::TopK) return false;
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    if (workgroup_for(info, a.ne[0]) * 8 > info.max_shared_memory) return false;
    return a.type == DType::F32 && addressable(g, n.src[0], info) && d.type == DType::I32 && d.is_contiguous() &&
           addressable(g, n.dst, info, true);
}

void record_top_k(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
    const TensorBinding a_bind = r.bind(n.src[0]);
    const TensorBinding d_bind = r.bind(n.dst);
    const ElementLayout al = element_layout(a, a_bind);
    const TopKPush push{u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]), u32(a.n_rows()), al.offset, al.nb1, al.nb2, al.nb3,
                        u32(n.params.k), d_bind.offset / 4};
    const ComputePipeline& p = r.pipeline({"top_k", 2, sizeof(TopKPush), {workgroup_for(r.info(), a.ne[0])}});
    const std::array bindings{a_bind, d_bind};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.n_rows()), 1));
}

}  // namespace kiln::vk
