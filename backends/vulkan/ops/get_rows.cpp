// GetRows: dst[n, m, b] f32 = rows ids[:, j] of table slice j of [n, rows, b], any dtype
// dequant.glsl reads (shader get_rows_<dtype>); ids outside the table give zero rows, as in the
// reference.
#include <algorithm>
#include <string>

#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/ops/weight_read.h"

namespace kiln::vk {
namespace {

// shaders/get_rows.comp
struct GetRowsParams {
    uint32_t n, count, rows;
    uint32_t t_offset, t_row_stride;
    uint32_t ids_offset;
    uint32_t d_offset, d_row_stride;
    uint32_t m, t_slice_stride;
};
static_assert(sizeof(GetRowsParams) == 40);


// Output elements one invocation writes per step: a run of 4 for quantized rows.
uint32_t per_invocation(DType t) { return info(t).quantized ? 4 : 1; }

}  // namespace

bool supports_get_rows(const Graph& g, const Node& n, const DeviceInfo& info) {
    const Tensor& t = g.tensor(n.src[0]);
    const Tensor& ids = g.tensor(n.src[1]);
    const Tensor& d = g.tensor(n.dst);
    if (!info.storage_16bit || !weight_shader_suffix(t.type)) return false;
    if (ids.type != DType::I32 || !ids.is_contiguous() || d.type != DType::F32 || !d.is_contiguous()) return false;
    if (!t.rows_contiguous() || !unit_aligned(g, n.src[0], weight_unit_bytes(t.type))) return false;
    if (t.nb[2] % weight_unit_bytes(t.type) != 0) return false;
    if (storage_offset(g, n.src[1]) % 4 != 0) return false;
    return binding_fits(t.n_bytes(), info) && binding_fits(ids.n_bytes(), info) && binding_fits(d.n_bytes(), info) &&
           static_cast<uint64_t>(t.ne[1]) <= UINT32_MAX;
}

void record_get_rows(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& t = g.tensor(n.src[0]);
    const Tensor& ids = g.tensor(n.src[1]);
    const Tensor& d = g.tensor(n.dst);
    const uint32_t unit = weight_unit_bytes(t.type);
    const TensorBinding tb = r.bind(n.src[0]);
    const TensorBinding ib = r.bind(n.src[1]);
    const TensorBinding db = r.bind(n.dst);

    GetRowsParams p{};
    p.n = static_cast<uint32_t>(t.ne[0]);
    p.count = static_cast<uint32_t>(ids.n_elements());
    p.m = static_cast<uint32_t>(ids.ne[0]);
    p.t_slice_stride = static_cast<uint32_t>(unit_stride(t, 2, unit));
    p.rows = static_cast<uint32_t>(t.ne[1]);
    p.t_offset = tb.offset / unit;
    p.t_row_stride = static_cast<uint32_t>(unit_stride(t, 1, unit));
    p.ids_offset = ib.offset / 4;
    p.d_offset = db.offset / 4;
    p.d_row_stride = static_cast<uint32_t>(d.nb[1] / 4);

    const std::string shader = "get_rows_" + std::string(*weight_shader_suffix(t.type));
    const uint32_t wg = r.info().shapes.get_rows_workgroup;
    const ComputePipeline& pipe = r.pipeline(PipelineDesc{shader, 3, sizeof(GetRowsParams), {wg}});
    // A grid-stride loop covers what the group limit leaves out.
    const uint64_t work = static_cast<uint64_t>(p.n / per_invocation(t.type)) * p.count;
    const uint32_t groups = std::clamp<uint64_t>(ceil_div(work, wg), 1, r.info().max_workgroup_count[0]);
    const TensorBinding buffers[] = {tb, ib, db};
    r.dispatch(pipe, buffers, p, groups);
}

}  // namespace kiln::vk
