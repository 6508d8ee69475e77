// MatMul: dst[n, m, b2, b3] = w[k, n]^T x[k, m, b2, b3] for every weight dtype dequant.glsl
// reads, x and dst f32. The columns are x's dims 1..3 flattened, so batches are more columns.
// Three kernels:
//   lanes (CPU devices, i.e. lavapipe): a subgroup per workgroup, each lane owning weight rows
//         over all of k, x shared by subgroupBroadcast (matmul_lanes.comp). lavapipe turns
//         every buffer load into a loop over the SIMD lanes, shared memory included, so
//         register blocking with few loads beats shared-memory tiles there.
//   vec   (GPUs, up to 8 columns: decode): invocations split k, subgroup/shared reduction.
//   tiles (GPUs, more columns: prompts): shared-memory tiles of w and x, register tiles.
//   idot  (quantized weights on GPUs with accelerated integer dot products): x quantized to
//         8-bit blocks by quantize_q8.comp (which also applies a folded rms_norm), then vec's or
//         tiles' layout with packed 4x8-bit dots (dequant_int8.glsl): two dispatches.
// VulkanOptions::matmul_kernel (`--vk-matmul`, reaching here as DeviceInfo::matmul_kernel)
// forces one (vec_shared: vec reducing through shared memory only, as on devices without
// subgroup arithmetic); tests use it to cover every kernel on any device.
// Every kernel also computes fused work (MatmulJob, ops.h): an epilogue with an operand,
// projections of one x (q/k/v into their outputs, gate/up into their swiglu) with weights bound
// as one range, and an rms_norm + mul folded into x's loads (match_projections finds the runs).
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "backends/vulkan/ops/matmul_layout.h"
#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/ops/weight_read.h"
#include "graph/error.h"

namespace kiln::vk {
namespace {

using Kernel = MatmulKernel;  // never `automatic` once chosen

// The lanes kernel needs subgroupBroadcast across a workgroup of one subgroup whose lanes
// split a 32-element run evenly. (subgroup_arithmetic stands in for the ballot feature that
// DeviceInfo does not record: the devices kiln meets offer both or neither.)
bool lanes_possible(const DeviceInfo& info) {
    const uint32_t s = info.subgroup_size;
    return info.subgroup_arithmetic && s >= 4 && s <= 32 && (s & (s - 1)) == 0 && info.min_subgroup_size == s &&
           info.max_subgroup_size == s;
}

// Integer dots need quantized weights (whole 32-element runs) and the device feature.
bool idot_possible(const DeviceInfo& info, DType weights) { return info.integer_dot_product && kiln::info(weights).quantized; }

// lanes on a CPU device; on GPUs integer dots where they are accelerated (from
// shapes.idot_min_cols columns), else up to shapes.vec_max_cols columns stream the weights once
// (vec), beyond that tiles reuse them.
Kernel choose(const DeviceInfo& info, uint64_t cols, DType weights) {
    Kernel k = info.matmul_kernel;
    if (k == Kernel::lanes && !lanes_possible(info)) k = Kernel::automatic;
    if (k == Kernel::idot && !idot_possible(info, weights)) k = Kernel::automatic;
    if (k == Kernel::automatic) {
        if (info.type == DeviceType::cpu && lanes_possible(info)) return Kernel::lanes;
        if (info.integer_dot_accelerated && idot_possible(info, weights) && cols >= info.shapes.idot_min_cols) {
            return Kernel::idot;
        }
        k = cols <= info.shapes.vec_max_cols ? Kernel::vec : Kernel::tiles;
    }
    if (k == Kernel::vec && !info.subgroup_arithmetic) return Kernel::vec_shared;
    return k;
}

// lanes: rows per lane x columns, from the device class's table (kernel_shapes.cpp says why).
Block lanes_block(const DeviceInfo& info, uint64_t cols, bool paired) {
    const KernelShapes& s = info.shapes;
    return cols == 1 ? Block{info.subgroup_size, even_if(paired, s.lanes_rows_decode), 1}
                     : Block{info.subgroup_size, even_if(paired, s.lanes_rows), s.lanes_cols};
}


// idot takes tiles' layout beyond vec's columns.
bool idot_tiled(const DeviceInfo& info, uint64_t cols) { return cols > info.shapes.vec_max_cols; }
// idot tiles (matmul_mm.comp): a run's bytes and scales for each tile row and column.
uint64_t idot_tile_bytes(const TileShape& t) { return 4ull * (8 * (t.bm + 1 + t.bn + 1) + 4 * (t.bm + t.bn)); }
// quantize_q8.comp's output: 32 bytes and a 16-byte scale record per 32-element block.
uint64_t quantized_x_bytes(uint64_t k, uint64_t cols) { return cols * (k / 32) * 48; }


uint64_t columns(const Tensor& x) { return static_cast<uint64_t>(x.ne[1] * x.ne[2] * x.ne[3]); }

// Rows per workgroup of the row-blocked kernels.
uint32_t block_rows(Kernel k, const Block& b) { return k == Kernel::lanes ? b.rows * b.invocations : b.rows; }

}  // namespace

bool supports_matmul(const Graph& g, const Node& n, const DeviceInfo& info) {
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const Tensor& d = g.tensor(n.dst);
    if (!info.storage_16bit || !weight_shader_suffix(w.type)) return false;
    if (x.type != DType::F32 || d.type != DType::F32 || !d.is_contiguous()) return false;
    if (w.ne[2] * w.ne[3] != 1 || !w.rows_contiguous() || !x.rows_contiguous()) return false;
    if (!unit_aligned(g, n.src[0], weight_unit_bytes(w.type)) || !unit_aligned(g, n.src[1], 4)) return false;
    // Indices are 32-bit and each tensor is one binding.
    if (!binding_fits(w.n_bytes(), info) || !binding_fits(x.n_bytes(), info) || !binding_fits(d.n_bytes(), info)) {
        return false;
    }
    const uint64_t cols = columns(x);
    const uint64_t rows = static_cast<uint64_t>(w.ne[1]);
    const Kernel kernel = choose(info, cols, w.type);
    if (kernel == Kernel::idot && !binding_fits(quantized_x_bytes(static_cast<uint64_t>(w.ne[0]), cols), info)) {
        return false;
    }
    const bool tiled = kernel == Kernel::tiles || (kernel == Kernel::idot && idot_tiled(info, cols));
    if (tiled) {
        const uint64_t shared = kernel == Kernel::idot ? idot_tile_bytes(info.shapes.tiles) : info.shapes.tiles.shared_bytes();
        return shared <= info.max_shared_memory &&
               info.shapes.tiles.invocations() <= info.max_workgroup_invocations &&
               ceil_div(rows, info.shapes.tiles.bm) <= info.max_workgroup_count[0] &&
               ceil_div(cols, info.shapes.tiles.bn) <= info.max_workgroup_count[1];
    }
    const Block b = kernel == Kernel::lanes ? lanes_block(info, cols, false) : vec_block(info, cols, false);
    if (kernel != Kernel::lanes && vec_shared_bytes(b) > info.max_shared_memory) return false;
    const Grid2 grid = spread(ceil_div(rows, block_rows(kernel, b)), info);
    return grid.y <= info.max_workgroup_count[1] && ceil_div(cols, b.cols) <= info.max_workgroup_count[2];
}

namespace {

// The other operand of the node fused after matmul `mm` (kNoTensor when it does not read mm).
TensorId other_operand(const Node& mm, const Node& next) {
    if (next.src[0] == mm.dst) return next.src[1];
    if (next.src[1] == mm.dst) return next.src[0];
    return kNoTensor;
}

}  // namespace

bool supports_matmul_epilogue(const Graph& g, const Node& mm, const Node& next, const DeviceInfo& info) {
    if (mm.op != Op::MatMul || (next.op != Op::Add && next.op != Op::SwiGLU)) return false;
    const TensorId other = other_operand(mm, next);
    if (other == kNoTensor || other == mm.dst) return false;
    if (!supports_matmul(g, mm, info) || !supports_elementwise(g, next, info)) return false;
    // The operand is packed f32 of the product's shape, read at the same index as dst.
    const Tensor& o = g.tensor(other);
    const Tensor& d = g.tensor(mm.dst);
    return o.type == DType::F32 && o.ne == d.ne && o.is_contiguous() && unit_aligned(g, other, 4) &&
           binding_fits(o.n_bytes(), info) && g.tensor(next.dst).ne == d.ne;
}

namespace {

// The rms_norm + mul starting a run can be folded into the loads of the matmuls reading the
// product (`first`): f32 rows the kernels read as floats, times an f32 weight row. Integer-dot
// matmuls fold it at any width: their quantize pass normalises each column once.
bool norm_foldable(const Graph& g, const Node& norm, const Node& mul, const Node& first, const DeviceInfo& info) {
    if (first.op != Op::MatMul || !supports_rms_norm_mul(g, norm, mul, info)) return false;
    const Tensor& a = g.tensor(norm.src[0]);
    const Tensor& w = g.tensor(mul.src[1]);
    const uint64_t cols = columns(a);
    const bool worth = cols <= info.shapes.norm_fold_max_cols ||
                       choose(info, cols, g.tensor(first.src[0]).type) == Kernel::idot;
    return worth && a.type == DType::F32 && a.rows_contiguous() &&
           unit_aligned(g, norm.src[0], 4) && binding_fits(a.n_bytes(), info) && w.type == DType::F32 &&
           unit_aligned(g, mul.src[1], 4);
}

// Gate and up projections (same shape) whose swiglu the paired kernel stores.
bool pairable(const Graph& g, const Node& a, const Node& b, const Node& swiglu, const DeviceInfo& info) {
    if (swiglu.op != Op::SwiGLU || !supports_elementwise(g, swiglu, info)) return false;
    const bool ab = swiglu.src[0] == a.dst && swiglu.src[1] == b.dst;
    const bool ba = swiglu.src[0] == b.dst && swiglu.src[1] == a.dst;
    const Tensor& d = g.tensor(a.dst);
    if (!(ab || ba) || g.tensor(b.dst).ne != d.ne || g.tensor(swiglu.dst).ne != d.ne) return false;
    const uint64_t cols = columns(g.tensor(a.src[1]));
    const Kernel k = choose(info, cols, g.tensor(a.src[0]).type);
    const bool tiled = k == Kernel::tiles || (k == Kernel::idot && idot_tiled(info, cols));
    return !tiled || info.shapes.tiles.tm % 2 == 0;
}

// Weights one segment kernel reads: consecutive matmuls of one weight dtype and row stride.
std::vector<std::vector<const Node*>> dtype_groups(const Graph& g, std::span<const Node* const> mms) {
    std::vector<std::vector<const Node*>> groups;
    for (const Node* m : mms) {
        const Tensor& w = g.tensor(m->src[0]);
        if (!groups.empty()) {
            const Tensor& w0 = g.tensor(groups.back().front()->src[0]);
            if (w.type == w0.type && w.nb[1] == w0.nb[1]) {
                groups.back().push_back(m);
                continue;
            }
        }
        groups.push_back({m});
    }
    return groups;
}

std::vector<TensorId> weights_of(std::span<const Node* const> mms) {
    std::vector<TensorId> ws;
    for (const Node* m : mms) ws.push_back(m->src[0]);
    return ws;
}

}  // namespace

size_t match_projections(const Graph& g, std::span<const Node> nodes, const DeviceInfo& info,
                         const WeightsTogether& together, const std::function<bool(size_t)>& accept) {
    const bool norm = nodes.size() >= 3 && norm_foldable(g, nodes[0], nodes[1], nodes[2], info);
    for (int with_norm = norm ? 1 : 0; with_norm >= 0; --with_norm) {
        const size_t at = with_norm ? 2 : 0;
        // Consecutive matmuls of one x (the norm's product when folded) and one k.
        std::vector<const Node*> mms;
        while (at + mms.size() < nodes.size() && mms.size() < 3) {
            const Node& n = nodes[at + mms.size()];
            if (n.op != Op::MatMul || !supports_matmul(g, n, info)) break;
            const TensorId x = with_norm ? nodes[1].dst : mms.empty() ? n.src[1] : mms[0]->src[1];
            if (n.src[1] != x || (!mms.empty() && g.tensor(n.src[0]).ne[0] != g.tensor(mms[0]->src[0]).ne[0])) break;
            mms.push_back(&n);
        }
        const auto groups = dtype_groups(g, mms);
        if (mms.size() >= 2 && groups.front().size() >= 2 && at + 2 < nodes.size() &&
            pairable(g, *mms[0], *mms[1], nodes[at + 2], info) && together(weights_of(std::span(mms).first(2))) &&
            accept(at + 3)) {
            return at + 3;
        }
        // Each dtype's matmuls are one kernel (q and k in Q4_K, v in Q6_K: two, both reading
        // the folded norm); without the norm, only a run where one kernel does several is worth it.
        for (size_t count = mms.size(); count >= 1; --count) {
            const auto gs = dtype_groups(g, std::span(mms).first(count));
            const bool joined = std::all_of(gs.begin(), gs.end(), [&](const auto& grp) { return together(weights_of(grp)); });
            const bool worth = with_norm || std::any_of(gs.begin(), gs.end(), [](const auto& grp) { return grp.size() > 1; });
            if (joined && worth && accept(at + count)) return at + count;
        }
    }
    return 0;
}

void record_projections(OpRecorder& r, std::span<const Node> run) {
    const Graph& g = r.graph();
    MatmulJob job;
    size_t at = 0;
    if (run[0].op == Op::RmsNorm) {
        job.norm = &run[0];
        job.norm_mul = &run[1];
        at = 2;
    }
    std::vector<const Node*> mms;
    for (; at < run.size() && run[at].op == Op::MatMul; ++at) mms.push_back(&run[at]);
    if (at < run.size()) {  // the swiglu of gate (its first operand) and up
        job.paired = true;
        job.dst = run[at].dst;
        job.matmuls = mms;
        if (job.matmuls[0]->dst != run[at].src[0]) std::swap(job.matmuls[0], job.matmuls[1]);
        record_matmul_job(r, job);
        return;
    }
    // A kernel per weight dtype, each into its matmuls' outputs; independent (no barrier).
    for (const auto& group : dtype_groups(g, mms)) {
        job.matmuls = group;
        job.dst = group.size() == 1 ? group.front()->dst : kNoTensor;
        record_matmul_job(r, job);
    }
}

void record_matmul(OpRecorder& r, const Node& n) {
    record_matmul_job(r, {.matmuls = {&n}, .dst = n.dst});
}

void record_matmul_epilogue(OpRecorder& r, const Node& mm, const Node& next) {
    MatmulEpilogue e = MatmulEpilogue::add;
    if (next.op == Op::SwiGLU) e = next.src[0] == mm.dst ? MatmulEpilogue::swiglu_gate : MatmulEpilogue::swiglu_up;
    record_matmul_job(r, {.matmuls = {&mm}, .dst = next.dst, .epilogue = e, .operand = other_operand(mm, next)});
}

namespace {

struct IdotFlags {
    uint32_t x_vec4 = 0, w_aligned = 0;
    bool norm = false;
};

// x (normalised when the norm is folded) into 8-bit blocks in scratch, then the integer-dot
// kernel reading them in place of x. `buffers` are the float kernels' seven bindings.
void record_idot(OpRecorder& r, MatmulParams p, std::span<const TensorBinding, 7> buffers, const std::string& suffix,
                 IdotFlags flags) {
    const DeviceInfo& dev = r.info();
    constexpr uint32_t kBindings = 7;
    const uint64_t blocks = uint64_t{p.cols} * (p.k / 32);
    const TensorBinding xq = r.scratch(quantized_x_bytes(p.k, p.cols));
    if (xq.offset % 16 != 0) throw Error("matmul: scratch for quantized x is not 16-byte aligned");
    p.xq_offset = xq.offset / 16;
    p.xm_offset = static_cast<uint32_t>(p.xq_offset + 2 * blocks);

    std::vector<uint32_t> quantize_constants{std::min(dev.shapes.quantize_workgroup, dev.max_workgroup_invocations),
                                             flags.x_vec4};
    quantize_constants.resize(kNormConstant, 0);
    quantize_constants.push_back(flags.norm ? 1 : 0);
    const ComputePipeline& quantize =
        r.pipeline(PipelineDesc{"quantize_q8", kBindings, sizeof(MatmulParams), std::move(quantize_constants)});
    const TensorBinding quantize_buffers[] = {buffers[1], buffers[1], xq, buffers[1], buffers[1], buffers[1], buffers[6]};
    r.dispatch(quantize, quantize_buffers, p, std::min(p.cols, dev.max_workgroup_count[0]));
    r.barrier();

    // The matmul: the norm is done, x's binding is the blocks.
    const TensorBinding mm_buffers[] = {buffers[0], xq, buffers[2], buffers[3], buffers[4], buffers[5], buffers[1]};
    if (idot_tiled(dev, p.cols)) {
        const TileShape& t = dev.shapes.tiles;
        const ComputePipeline& pipe = r.pipeline(PipelineDesc{
            "matmul_idot_mm_" + suffix, kBindings, sizeof(MatmulParams),
            {t.invocations(), t.bm, t.bn, t.bk, t.tm, t.tn, 0, flags.w_aligned}});
        const uint32_t out_rows = p.paired ? t.bm / 2 : t.bm;
        r.dispatch(pipe, mm_buffers, p, ceil_div(p.n, out_rows), ceil_div(p.cols, t.bn), 1);
        return;
    }
    const Block b = vec_block(dev, p.cols, p.paired != 0);
    const std::string shader = "matmul_idot_vec_" + suffix + (dev.subgroup_arithmetic ? "_sg" : "");
    const ComputePipeline& pipe = r.pipeline(PipelineDesc{
        shader, kBindings, sizeof(MatmulParams),
        {b.invocations, b.rows, b.cols, 0, std::max(dev.min_subgroup_size, 1u), flags.w_aligned}});
    const Grid2 grid = spread(ceil_div(p.n, b.rows / (p.paired ? 2 : 1)), dev);
    r.dispatch(pipe, mm_buffers, p, grid.x, grid.y, ceil_div(p.cols, b.cols));
}

}  // namespace

void record_matmul_job(OpRecorder& r, const MatmulJob& job) {
    const Graph& g = r.graph();
    const DeviceInfo& dev = r.info();
    const Node& first = *job.matmuls.front();
    const Tensor& w = g.tensor(first.src[0]);
    // With the norm folded in, the kernel reads the norm's input and normalises it itself.
    const TensorId x_id = job.norm ? job.norm->src[0] : first.src[1];
    const Tensor& x = g.tensor(x_id);
    const uint32_t unit = weight_unit_bytes(w.type);
    std::vector<TensorId> weights;
    for (const Node* m : job.matmuls) weights.push_back(m->src[0]);
    const std::vector<TensorBinding> wbs = weights.size() == 1 ? std::vector{r.bind(weights[0])} : r.bind_together(weights);
    const TensorBinding& wb = wbs.front();
    const TensorBinding xb = r.bind(x_id);
    // Segments write their own outputs; the paired and single kernels one.
    std::vector<TensorBinding> dbs;
    if (job.paired || job.matmuls.size() == 1) {
        dbs.push_back(r.bind(job.dst));
    } else {
        for (const Node* m : job.matmuls) dbs.push_back(r.bind(m->dst));
    }
    // Bindings a kernel does not use repeat one it does (bound, never touched).
    const TensorBinding rb = job.operand != kNoTensor ? r.bind(job.operand) : xb;
    const TensorBinding nwb = job.norm ? r.bind(job.norm_mul->src[1]) : xb;

    MatmulParams p{};
    p.k = static_cast<uint32_t>(w.ne[0]);
    p.cols = static_cast<uint32_t>(columns(x));
    p.m = static_cast<uint32_t>(x.ne[1]);
    p.b2 = static_cast<uint32_t>(x.ne[2]);
    p.w_row_stride = static_cast<uint32_t>(w.nb[1] / unit);
    p.x_offset = xb.offset / 4;
    p.x_nb1 = static_cast<uint32_t>(unit_stride(x, 1, 4));
    p.x_nb2 = static_cast<uint32_t>(unit_stride(x, 2, 4));
    p.x_nb3 = static_cast<uint32_t>(unit_stride(x, 3, 4));
    p.w_last_word = static_cast<uint32_t>(wb.range.size / 4 - 1);
    p.r_offset = rb.offset / 4;
    p.epilogue = static_cast<uint32_t>(job.epilogue);
    // Rows: one matmul's, the segments' one after another, or (paired) the outputs'.
    uint32_t starts[3] = {};
    for (size_t i = 0; i < weights.size(); ++i) {
        const auto rows = static_cast<uint32_t>(g.tensor(weights[i]).ne[1]);
        starts[i] = p.n;
        p.n = job.paired ? rows : p.n + rows;
    }
    const bool segments = !job.paired && weights.size() > 1;
    p.seg1 = segments ? starts[1] : p.n;
    p.seg2 = segments && weights.size() > 2 ? starts[2] : p.n;
    const uint32_t w_offsets[3] = {wbs[0].offset / unit, wbs.size() > 1 ? wbs[1].offset / unit : 0,
                                   wbs.size() > 2 ? wbs[2].offset / unit : 0};
    p.w_offset = w_offsets[0], p.w_offset1 = w_offsets[1], p.w_offset2 = w_offsets[2];
    p.d_offset = dbs[0].offset / 4;
    p.d_offset1 = dbs.size() > 1 ? dbs[1].offset / 4 : 0;
    p.d_offset2 = dbs.size() > 2 ? dbs[2].offset / 4 : 0;
    p.paired = job.paired ? 1 : 0;
    p.nw_offset = nwb.offset / 4;
    p.eps = job.norm ? job.norm->params.eps : 0.0f;
    const uint32_t x_vec4 = vk::x_vec4(p);
    const uint32_t w_aligned = weights_aligned(w.type, {w.nb[1], wbs[0].offset, wbs.size() > 1 ? wbs[1].offset : 0u,
                                                        wbs.size() > 2 ? wbs[2].offset : 0u});

    const std::string suffix(*weight_shader_suffix(w.type));
    const TensorBinding buffers[] = {wb, xb, dbs[0], rb, dbs.size() > 1 ? dbs[1] : dbs[0],
                                     dbs.size() > 2 ? dbs[2] : dbs[0], nwb};
    constexpr uint32_t kBindings = 7;
    const Kernel kernel = choose(dev, p.cols, w.type);
    const auto with_norm = [&](std::vector<uint32_t> constants) {
        constants.resize(kNormConstant, 0);
        constants.push_back(job.norm ? 1 : 0);
        return constants;
    };
    if (kernel == Kernel::idot) {
        record_idot(r, p, buffers, suffix, {.x_vec4 = x_vec4, .w_aligned = w_aligned, .norm = job.norm != nullptr});
        return;
    }
    if (kernel == Kernel::tiles) {
        const TileShape& t = dev.shapes.tiles;
        const ComputePipeline& pipe = r.pipeline(PipelineDesc{
            "matmul_mm_" + suffix, kBindings, sizeof(MatmulParams),
            with_norm({t.invocations(), t.bm, t.bn, t.bk, t.tm, t.tn, x_vec4})});
        const uint32_t out_rows = job.paired ? t.bm / 2 : t.bm;
        r.dispatch(pipe, buffers, p, ceil_div(p.n, out_rows), ceil_div(p.cols, t.bn), 1);
        return;
    }
    Block b;
    std::string shader;
    std::vector<uint32_t> constants;
    if (kernel == Kernel::lanes) {
        b = lanes_block(dev, p.cols, job.paired);
        shader = "matmul_lanes_" + suffix;
        constants = {b.invocations, b.rows, b.cols, w_aligned};
    } else {
        b = vec_block(dev, p.cols, job.paired);
        shader = "matmul_vec_" + suffix + (kernel == Kernel::vec ? "_sg" : "");
        constants = {b.invocations, b.rows, b.cols, x_vec4, std::max(dev.min_subgroup_size, 1u), w_aligned};
    }
    const ComputePipeline& pipe =
        r.pipeline(PipelineDesc{shader, kBindings, sizeof(MatmulParams), with_norm(std::move(constants))});
    const uint32_t out_rows = block_rows(kernel, b) / (job.paired ? 2 : 1);
    const Grid2 grid = spread(ceil_div(p.n, out_rows), dev);
    r.dispatch(pipe, buffers, p, grid.x, grid.y, ceil_div(p.cols, b.cols));
}

}  // namespace kiln::vk
