// MatMul: dst[n, m, b2, b3] = w[k, n]^T x[k, m, b2, b3] for every weight dtype dequant.glsl
// reads, x and dst f32. The columns are x's dims 1..3 flattened, so batches are more columns.
// Three kernels:
//   lanes (CPU devices, i.e. lavapipe): a subgroup per workgroup, each lane owning weight rows
//         over all of k, x shared by subgroupBroadcast (matmul_lanes.comp). lavapipe turns
//         every buffer load into a loop over the SIMD lanes, shared memory included, so
//         register blocking with few loads beats shared-memory tiles there.
//   vec   (GPUs, up to 8 columns: decode): invocations split k, subgroup/shared reduction.
//   tiles (GPUs, more columns: prompts): shared-memory tiles of w and x, register tiles.
// VulkanOptions::matmul_kernel (`--vk-matmul`, reaching here as DeviceInfo::matmul_kernel)
// forces one (vec_shared: vec reducing through shared memory only, as on devices without
// subgroup arithmetic); tests use it to cover every kernel on any device.
#include <algorithm>
#include <string>
#include <vector>

#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/ops/weight_read.h"

namespace kiln::vk {
namespace {

// shaders/matmul_params.glsl
struct MatmulParams {
    uint32_t k, n, cols, m, b2;
    uint32_t w_offset, w_row_stride;
    uint32_t x_offset, x_nb1, x_nb2, x_nb3;
    uint32_t d_offset;
    uint32_t w_last_word;
    uint32_t r_offset, epilogue;  // MatmulEpilogue
};
static_assert(sizeof(MatmulParams) == 60);

using Kernel = MatmulKernel;  // never `automatic` once chosen

// The lanes kernel needs subgroupBroadcast across a workgroup of one subgroup whose lanes
// split a 32-element run evenly. (subgroup_arithmetic stands in for the ballot feature that
// DeviceInfo does not record: the devices kiln meets offer both or neither.)
bool lanes_possible(const DeviceInfo& info) {
    const uint32_t s = info.subgroup_size;
    return info.subgroup_arithmetic && s >= 4 && s <= 32 && (s & (s - 1)) == 0 && info.min_subgroup_size == s &&
           info.max_subgroup_size == s;
}

// lanes on a CPU device; on GPUs up to shapes.vec_max_cols columns stream the weights once (vec),
// beyond that tiles reuse them.
Kernel choose(const DeviceInfo& info, uint64_t cols) {
    Kernel k = info.matmul_kernel;
    if (k == Kernel::lanes && !lanes_possible(info)) k = Kernel::automatic;
    if (k == Kernel::automatic) {
        if (info.type == DeviceType::cpu && lanes_possible(info)) return Kernel::lanes;
        k = cols <= info.shapes.vec_max_cols ? Kernel::vec : Kernel::tiles;
    }
    if (k == Kernel::vec && !info.subgroup_arithmetic) return Kernel::vec_shared;
    return k;
}

// Rows and columns a workgroup computes, and its size.
struct Block {
    uint32_t invocations, rows, cols;
};

// lanes: rows per lane x columns, from the device class's table (kernel_shapes.cpp says why).
Block lanes_block(const DeviceInfo& info, uint64_t cols) {
    const KernelShapes& s = info.shapes;
    return cols == 1 ? Block{info.subgroup_size, s.lanes_rows_decode, 1}
                     : Block{info.subgroup_size, s.lanes_rows, s.lanes_cols};
}

// vec: a subgroup or more (the table's bounds) split k; the table's rows; 1, 2, 4 or 8 columns
// (a partial chunk repeats its last column).
Block vec_block(const DeviceInfo& info, uint64_t cols) {
    const uint32_t c = cols <= 1 ? 1 : cols <= 2 ? 2 : cols <= 4 ? 4 : 8;
    const KernelShapes& s = info.shapes;
    return {std::clamp<uint32_t>(info.subgroup_size, s.vec_min_invocations, s.vec_max_invocations), s.vec_rows, c};
}

uint64_t vec_shared_bytes(const Block& b) { return 4ull * b.invocations * b.rows * b.cols; }


// A 1-D count of workgroups spread over x then y (vocabulary-sized row counts exceed x's limit
// on some devices).
struct Grid2 {
    uint32_t x, y;
};
Grid2 spread(uint64_t groups, const DeviceInfo& info) {
    const uint64_t x = std::min<uint64_t>(groups, info.max_workgroup_count[0]);
    return {static_cast<uint32_t>(x), ceil_div(groups, x)};
}

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
    const Kernel kernel = choose(info, cols);
    if (kernel == Kernel::tiles) {
        return info.shapes.tiles.shared_bytes() <= info.max_shared_memory &&
               info.shapes.tiles.invocations() <= info.max_workgroup_invocations &&
               ceil_div(rows, info.shapes.tiles.bm) <= info.max_workgroup_count[0] &&
               ceil_div(cols, info.shapes.tiles.bn) <= info.max_workgroup_count[1];
    }
    const Block b = kernel == Kernel::lanes ? lanes_block(info, cols) : vec_block(info, cols);
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

void record_matmul(OpRecorder& r, const Node& n) { record_matmul_into(r, n, n.dst, MatmulEpilogue::none, kNoTensor); }

void record_matmul_epilogue(OpRecorder& r, const Node& mm, const Node& next) {
    MatmulEpilogue e = MatmulEpilogue::add;
    if (next.op == Op::SwiGLU) e = next.src[0] == mm.dst ? MatmulEpilogue::swiglu_gate : MatmulEpilogue::swiglu_up;
    record_matmul_into(r, mm, next.dst, e, other_operand(mm, next));
}

void record_matmul_into(OpRecorder& r, const Node& n, TensorId dst, MatmulEpilogue epilogue, TensorId operand) {
    const Graph& g = r.graph();
    const DeviceInfo& dev = r.info();
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const uint32_t unit = weight_unit_bytes(w.type);
    const TensorBinding wb = r.bind(n.src[0]);
    const TensorBinding xb = r.bind(n.src[1]);
    const TensorBinding db = r.bind(dst);
    // Without an epilogue operand, binding 3 repeats x (bound, never read).
    const TensorBinding rb = operand != kNoTensor ? r.bind(operand) : xb;

    MatmulParams p{};
    p.k = static_cast<uint32_t>(w.ne[0]);
    p.n = static_cast<uint32_t>(w.ne[1]);
    p.cols = static_cast<uint32_t>(columns(x));
    p.m = static_cast<uint32_t>(x.ne[1]);
    p.b2 = static_cast<uint32_t>(x.ne[2]);
    p.w_offset = wb.offset / unit;
    p.w_row_stride = static_cast<uint32_t>(w.nb[1] / unit);
    p.x_offset = xb.offset / 4;
    p.x_nb1 = static_cast<uint32_t>(unit_stride(x, 1, 4));
    p.x_nb2 = static_cast<uint32_t>(unit_stride(x, 2, 4));
    p.x_nb3 = static_cast<uint32_t>(unit_stride(x, 3, 4));
    p.d_offset = db.offset / 4;
    p.w_last_word = static_cast<uint32_t>(wb.range.size / 4 - 1);
    p.r_offset = rb.offset / 4;
    p.epilogue = static_cast<uint32_t>(epilogue);
    // Runs of 4 floats of x can be read as vec4s.
    const uint32_t x_vec4 = (p.x_offset | p.x_nb1 | p.x_nb2 | p.x_nb3) % 4 == 0 ? 1 : 0;
    // dequant32.glsl's W_ALIGNED: F32 sub-blocks start on 16 bytes, other blocks on 4.
    const uint64_t align = w.type == DType::F32 ? 16 : 4;
    const bool whole_words = !info(w.type).quantized || info(w.type).block_bytes % 4 == 0;
    const uint32_t w_aligned = whole_words && wb.offset % align == 0 && w.nb[1] % align == 0 ? 1 : 0;

    const std::string suffix(*weight_shader_suffix(w.type));
    const TensorBinding buffers[] = {wb, xb, db, rb};
    const Kernel kernel = choose(dev, p.cols);
    if (kernel == Kernel::tiles) {
        const TileShape& t = dev.shapes.tiles;
        const ComputePipeline& pipe = r.pipeline(PipelineDesc{
            "matmul_mm_" + suffix, 4, sizeof(MatmulParams), {t.invocations(), t.bm, t.bn, t.bk, t.tm, t.tn, x_vec4}});
        r.dispatch(pipe, buffers, p, ceil_div(p.n, t.bm), ceil_div(p.cols, t.bn), 1);
        return;
    }
    Block b;
    std::string shader;
    std::vector<uint32_t> constants;
    if (kernel == Kernel::lanes) {
        b = lanes_block(dev, p.cols);
        shader = "matmul_lanes_" + suffix;
        constants = {b.invocations, b.rows, b.cols, w_aligned};
    } else {
        b = vec_block(dev, p.cols);
        shader = "matmul_vec_" + suffix + (kernel == Kernel::vec ? "_sg" : "");
        constants = {b.invocations, b.rows, b.cols, x_vec4, std::max(dev.min_subgroup_size, 1u), w_aligned};
    }
    const ComputePipeline& pipe = r.pipeline(PipelineDesc{shader, 4, sizeof(MatmulParams), std::move(constants)});
    const Grid2 grid = spread(ceil_div(p.n, block_rows(kernel, b)), dev);
    r.dispatch(pipe, buffers, p, grid.x, grid.y, ceil_div(p.cols, b.cols));
}

}  // namespace kiln::vk
