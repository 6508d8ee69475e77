// MulMatId (mixture of experts): dst[:, i, t] = W_e^T x[:, i or 0, t] with e = ids[i, t], for
// every weight dtype dequant.glsl reads. Only the chosen experts' rows are read:
//   few columns (decode): the vec kernel (shaders/matmul_vec.comp with MUL_MAT_ID) takes one
//     output column per workgroup column and offsets its weight rows to that column's expert;
//   more (prompts): moe_group.comp lists the columns expert by expert, then the tiled kernel
//     (matmul_mm.comp with MUL_MAT_ID) runs a grid over (row tile, column tile, expert), so each
//     chosen expert's tiles of rows are read once per tile of its columns, not once per column.
#include <string>

#include "backends/vulkan/ops/matmul_layout.h"
#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/ops/weight_read.h"

namespace kiln::vk {
namespace {

constexpr uint32_t kBindings = 8;  // matmul_params.glsl's seven, then the ids

Block block_of(const DeviceInfo& info) { return vec_block(info, 1, false); }

struct GroupPush {  // moe_group.comp's Params
    uint32_t ids_offset, columns, experts, g_offset;
};

// Prompts take the tiles on GPUs (as matmul does: on a CPU device, lavapipe, shared-memory tiles
// lose to register blocking and take seconds to compile) or when `--vk-matmul tiles` forces
// them, where the device can run them.
bool tiled(const DeviceInfo& info, uint64_t columns, uint64_t rows, uint64_t experts) {
    const bool wanted = info.matmul_kernel == MatmulKernel::tiles ||
                        (info.matmul_kernel == MatmulKernel::automatic && info.type != DeviceType::cpu);
    const TileShape& t = info.shapes.tiles;
    return wanted && columns > info.shapes.vec_max_cols && t.shared_bytes() <= info.max_shared_memory &&
           t.invocations() <= info.max_workgroup_invocations && ceil_div(rows, t.bm) <= info.max_workgroup_count[0] &&
           ceil_div(columns, t.bn) <= info.max_workgroup_count[1] && experts + 1 <= info.max_workgroup_count[2] &&
           experts <= 1024 && info.max_workgroup_invocations >= 256;
}

}  // namespace

bool supports_mul_mat_id(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (n.op != Op::MulMatId) return false;
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const Tensor& ids = g.tensor(n.src[2]);
    const Tensor& d = g.tensor(n.dst);
    if (!info.storage_16bit || !weight_shader_suffix(w.type)) return false;
    if (x.type != DType::F32 || d.type != DType::F32 || !d.is_contiguous() || !x.rows_contiguous()) return false;
    if (ids.type != DType::I32 || !ids.is_contiguous() || storage_offset(g, n.src[2]) % 4 != 0) return false;
    const uint32_t unit = weight_unit_bytes(w.type);
    if (!w.rows_contiguous() || w.nb[2] % unit != 0 || !unit_aligned(g, n.src[0], unit) || !unit_aligned(g, n.src[1], 4)) {
        return false;
    }
    for (const Tensor* t : {&w, &x, &ids, &d}) {
        if (!binding_fits(t->n_bytes(), info)) return false;
    }
    const auto columns = static_cast<uint64_t>(ids.n_elements()), rows = static_cast<uint64_t>(w.ne[1]);
    if (tiled(info, columns, rows, static_cast<uint64_t>(w.ne[2]))) return binding_fits(4 * (w.ne[2] + 2 + columns), info);
    const Block b = block_of(info);
    if (vec_shared_bytes(b) > info.max_shared_memory) return false;
    const Grid2 grid = spread(ceil_div(rows, b.rows), info);
    return grid.y <= info.max_workgroup_count[1] && columns <= info.max_workgroup_count[2];
}

void record_mul_mat_id(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const DeviceInfo& dev = r.info();
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const Tensor& ids = g.tensor(n.src[2]);
    const uint32_t unit = weight_unit_bytes(w.type);
    const TensorBinding wb = r.bind(n.src[0]);
    const TensorBinding xb = r.bind(n.src[1]);
    const TensorBinding ib = r.bind(n.src[2]);
    const TensorBinding db = r.bind(n.dst);
    const auto u32 = [](uint64_t v) { return static_cast<uint32_t>(v); };

    MatmulParams p{};
    p.k = u32(w.ne[0]);
    p.n = p.seg1 = p.seg2 = u32(w.ne[1]);
    p.cols = u32(ids.n_elements());
    p.m = u32(x.ne[1]);
    p.b2 = u32(x.ne[2]);
    p.w_offset = wb.offset / unit;
    p.w_row_stride = u32(w.nb[1] / unit);
    p.x_offset = xb.offset / 4;
    p.x_nb1 = u32(unit_stride(x, 1, 4));
    p.x_nb2 = u32(unit_stride(x, 2, 4));
    p.x_nb3 = u32(unit_stride(x, 3, 4));
    p.d_offset = db.offset / 4;
    p.w_last_word = u32(wb.range.size / 4 - 1);
    p.ids_offset = ib.offset / 4;
    p.used = u32(ids.ne[0]);
    p.experts = u32(w.ne[2]);
    p.expert_stride = u32(w.nb[2] / unit);
    const uint32_t x_vec4 = vk::x_vec4(p);
    const uint32_t w_aligned = weights_aligned(w.type, {w.nb[1], w.nb[2], wb.offset});

    const std::string suffix(*weight_shader_suffix(w.type));
    if (tiled(dev, p.cols, p.n, p.experts)) {
        // The columns grouped by expert: start[experts + 2] then order[columns], in scratch.
        const TensorBinding groups = r.scratch(4ull * (p.experts + 2 + p.cols));
        const GroupPush gp{p.ids_offset, p.cols, p.experts, groups.offset / 4};
        const ComputePipeline& group = r.pipeline(PipelineDesc{"moe_group", 2, sizeof(GroupPush), {std::min(256u, dev.max_workgroup_invocations)}});
        const TensorBinding group_buffers[] = {ib, groups};
        r.dispatch(group, group_buffers, gp, 1);
        r.barrier();
        p.groups_offset = groups.offset / 4;
        const TileShape& t = dev.shapes.tiles;
        std::vector<uint32_t> tile_constants{t.invocations(), t.bm, t.bn, t.bk, t.tm, t.tn, x_vec4};
        tile_constants.resize(kNormConstant + 1, 0);
        const ComputePipeline& pipe =
            r.pipeline(PipelineDesc{"matmul_id_mm_" + suffix, kBindings, sizeof(MatmulParams), std::move(tile_constants)});
        const TensorBinding buffers[] = {wb, xb, db, xb, db, db, xb, groups};
        r.dispatch(pipe, buffers, p, ceil_div(p.n, t.bm), ceil_div(p.cols, t.bn), p.experts + 1);
        return;
    }
    const Block b = block_of(dev);
    const std::string shader =
        "matmul_id_vec_" + std::string(*weight_shader_suffix(w.type)) + (dev.subgroup_arithmetic ? "_sg" : "");
    std::vector<uint32_t> constants{b.invocations, b.rows, 1, x_vec4, std::max(dev.min_subgroup_size, 1u), w_aligned};
    constants.resize(kNormConstant + 1, 0);
    const ComputePipeline& pipe = r.pipeline(PipelineDesc{shader, kBindings, sizeof(MatmulParams), std::move(constants)});
    // Bindings the kernel does not use repeat one it does.
    const TensorBinding buffers[] = {wb, xb, db, xb, db, db, xb, ib};
    const Grid2 grid = spread(ceil_div(p.n, b.rows), dev);
    r.dispatch(pipe, buffers, p, grid.x, grid.y, p.cols);
}

}  // namespace kiln::vk
