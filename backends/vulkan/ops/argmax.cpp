// Argmax (shaders/argmax.comp): one workgroup per f32 row, a (value, index) tree in shared
// memory; rows of a 152k vocabulary take each invocation a few hundred steps.
#include <algorithm>
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct ArgmaxPush {  // argmax.comp's Params
    uint32_t ne0, ne1, ne2;
    uint32_t rows;
    uint32_t a_offset, a_nb1, a_nb2, a_nb3;
};
static_assert(sizeof(ArgmaxPush) == 8 * 4);

uint32_t workgroup_for(const DeviceInfo& info, int64_t row) {
    return row_workgroup_size(info, static_cast<uint32_t>(std::clamp<int64_t>(row / 8, 32, 1024)));
}

}  // namespace

bool supports_argmax(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::Argmax) return false;
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    // The shared-memory tree holds a float and an index per invocation.
    if (workgroup_for(info, a.ne[0]) * 8 > info.max_shared_memory) return false;
    return a.type == DType::F32 && addressable(g, n.src[0], info) && d.type == DType::I32 && d.is_contiguous() &&
           d.n_elements() == a.n_rows() && addressable(g, n.dst, info, true);
}

void record_argmax(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
    const TensorBinding a_bind = r.bind(n.src[0]);
    const ElementLayout al = element_layout(a, a_bind);
    const ArgmaxPush push{u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]), u32(a.n_rows()), al.offset, al.nb1, al.nb2, al.nb3};
    const uint32_t wg = workgroup_for(r.info(), a.ne[0]);
    const ComputePipeline& p = r.pipeline({"argmax", 2, sizeof(ArgmaxPush), {wg}});
    const std::array bindings{a_bind, r.bind(n.dst)};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.n_rows()), 1));
}

}  // namespace kiln::vk
