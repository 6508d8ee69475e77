#pragma once
// What the matmul kernels' host code shares (ops/matmul.cpp, ops/mul_mat_id.cpp): the push
// constants of shaders/matmul_params.glsl, and how the vec kernel's workgroups are shaped and
// spread over the grid.
#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "backends/vulkan/device_info.h"
#include "backends/vulkan/ops/float_layout.h"
#include "graph/dtype.h"

namespace kiln::vk {

// shaders/matmul_params.glsl
struct MatmulParams {
    uint32_t k, n, cols, m, b2;
    uint32_t w_offset, w_row_stride;
    uint32_t x_offset, x_nb1, x_nb2, x_nb3;
    uint32_t d_offset;
    uint32_t w_last_word;
    uint32_t r_offset, epilogue;  // MatmulEpilogue
    uint32_t seg1, seg2;          // projections: first rows of the second and third
    uint32_t w_offset1, w_offset2;
    uint32_t d_offset1, d_offset2;
    uint32_t paired;              // gate and up rows, swiglu of them stored
    uint32_t nw_offset;           // NORM: the norm weight row
    float eps;
    uint32_t xq_offset, xm_offset;  // idot: x's 8-bit blocks and their scales (16-byte units)
    // mul_mat_id: ids from int ids_offset, `used` per token; expert e's rows start
    // e * expert_stride units after w_offset.
    uint32_t ids_offset, used, experts, expert_stride;
    uint32_t groups_offset;  // tiled mul_mat_id: moe_group.comp's output (uints)
};
static_assert(sizeof(MatmulParams) == 124);

// The spec constant of NORM (matmul_params.glsl): after each family's own, which are fewer.
constexpr size_t kNormConstant = 8;

// matmul_params.glsl's X_VEC4: runs of 4 floats of x can be read as vec4s.
inline uint32_t x_vec4(const MatmulParams& p) { return (p.x_offset | p.x_nb1 | p.x_nb2 | p.x_nb3) % 4 == 0 ? 1 : 0; }

// dequant_units.glsl's W_ALIGNED for weights of type `t` whose rows (and experts, bindings)
// start at `starts` bytes: F32 blocks on 16 bytes, other blocks on a word.
inline uint32_t weights_aligned(DType t, std::initializer_list<uint64_t> starts) {
    const uint64_t align = t == DType::F32 ? 16 : 4;
    const bool whole_words = !info(t).quantized || info(t).block_bytes % 4 == 0;
    bool aligned = whole_words;
    for (uint64_t s : starts) aligned = aligned && s % align == 0;
    return aligned ? 1 : 0;
}

// Rows and columns a workgroup computes, and its size.
struct Block {
    uint32_t invocations, rows, cols;
};

// Paired (gate and up rows, matmul_params.glsl) needs an even number of rows per lane or
// workgroup.
inline uint32_t even_if(bool paired, uint32_t rows) { return paired ? rows + rows % 2 : rows; }

// vec: a subgroup or more (the table's bounds) split k; the table's rows; 1, 2, 4 or 8 columns
// (a partial chunk repeats its last column).
inline Block vec_block(const DeviceInfo& info, uint64_t cols, bool paired) {
    const uint32_t c = cols <= 1 ? 1 : cols <= 2 ? 2 : cols <= 4 ? 4 : 8;
    const KernelShapes& s = info.shapes;
    return {std::clamp<uint32_t>(info.subgroup_size, s.vec_min_invocations, s.vec_max_invocations),
            even_if(paired, s.vec_rows), c};
}

inline uint64_t vec_shared_bytes(const Block& b) { return 4ull * b.invocations * b.rows * b.cols; }

// A 1-D count of workgroups spread over x then y (vocabulary-sized row counts exceed x's limit
// on some devices).
struct Grid2 {
    uint32_t x, y;
};
inline Grid2 spread(uint64_t groups, const DeviceInfo& info) {
    const uint64_t x = std::min<uint64_t>(groups, info.max_workgroup_count[0]);
    return {static_cast<uint32_t>(x), static_cast<uint32_t>((groups + x - 1) / x)};
}

}  // namespace kiln::vk
