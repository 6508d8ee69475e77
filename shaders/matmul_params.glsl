// Push constants and activation/output/residual bindings shared by the matmul shaders
// (kiln::vk::MatmulParams in backends/vulkan/ops/matmul.cpp matches this block).
// dst[col * n + row] = sum_i w[row][i] * x[col][i], where col flattens x's dims 1..3.
#ifndef KILN_MATMUL_PARAMS_GLSL
#define KILN_MATMUL_PARAMS_GLSL

#include "activations.glsl"

layout(push_constant) uniform MatmulParams {
    uint k;             // inner dimension (elements per weight row)
    uint n;             // weight rows = outputs per column
    uint cols;          // x columns: m * b2 * b3
    uint m;             // x ne[1]
    uint b2;            // x ne[2]
    uint w_offset;      // first weight unit (float for F32, 16-bit word otherwise)
    uint w_row_stride;  // units between weight rows
    uint x_offset;      // floats
    uint x_nb1;         // floats between x rows (dims 1, 2, 3)
    uint x_nb2;
    uint x_nb3;
    uint d_offset;      // floats; dst is packed [n, cols]
    uint w_last_word;   // last 32-bit word of the weight binding
    uint r_offset;      // floats; the epilogue's operand r is packed [n, cols] like dst
    uint epilogue;      // KILN_EPILOGUE_*: what a fused node after the matmul does with r
    // Projections of one x in one dispatch (fused, backends/vulkan/ops/matmul.cpp): the weights
    // lie in one binding, each at its own offset.
    //   segments: rows [0, seg1) come from w_offset into d, [seg1, seg2) from w_offset1 into
    //             d1, [seg2, n) from w_offset2 into d2, each output packed [its rows, cols]
    //             (seg1 = seg2 = n for one matmul);
    //   paired:   n outputs of swiglu(gate, up); each workgroup computes its output rows' gate
    //             rows (from w_offset) as its first half of rows and their up rows (from
    //             w_offset1) as the second half.
    uint seg1, seg2;
    uint w_offset1, w_offset2;  // units
    uint d_offset1, d_offset2;  // floats
    uint paired;
    uint nw_offset;  // NORM: floats; the norm weight row (f32, k long)
    float eps;       // NORM: the rms_norm's epsilon
    // Integer-dot kernels: x as quantize_q8.comp's 8-bit blocks, its bytes from uvec4 xq_offset
    // and their scales from vec4 xm_offset (16-byte units of that binding).
    uint xq_offset, xm_offset;
    // mul_mat_id (MUL_MAT_ID): output column c is slot c % used of token c / used, multiplied
    // by expert ids[ids_offset + c], whose rows start expert * expert_stride units after
    // w_offset; x's dim 1 (m) is 1 (every slot reads the token's column) or `used`.
    uint ids_offset, used, experts, expert_stride;
    uint groups_offset;  // tiled mul_mat_id: moe_group.comp's output, uints into binding 7
} params;

// NORM: x is the input of a fused rms_norm + mul by a weight row, normalised as it is loaded:
// (x * 1/sqrt(mean(x^2) + eps)) * w, rounded as the two nodes round it. Each workgroup computes
// its columns' 1/rms itself (kernel-specific reductions), then loads x through x_value().
layout(constant_id = 8) const bool NORM = false;

#define KILN_EPILOGUE_NONE 0u        // dst = sum (binding 3 unused)
#define KILN_EPILOGUE_ADD 1u         // dst = r + sum: matmul + add (a residual)
#define KILN_EPILOGUE_SWIGLU_GATE 2u // dst = silu(sum) * r: the gate projection + swiglu(gate, up)
#define KILN_EPILOGUE_SWIGLU_UP 3u   // dst = silu(r) * sum: the up projection + swiglu(gate, up)

// X_VEC4 (specialization constant set by the including shader): x's offset and strides are
// multiples of 4 floats, so runs of 4 are read as one vec4.
layout(std430, binding = 1) readonly buffer XBuffer { float x_data[]; };
layout(std430, binding = 1) readonly buffer XBuffer4 { vec4 x_data4[]; };
layout(std430, binding = 2) writeonly buffer DBuffer { float d_data[]; };
layout(std430, binding = 3) readonly buffer RBuffer { float r_data[]; };
layout(std430, binding = 4) writeonly buffer D1Buffer { float d1_data[]; };
layout(std430, binding = 5) writeonly buffer D2Buffer { float d2_data[]; };
layout(std430, binding = 6) readonly buffer NormWeight { float nw_data[]; };

// Stores output (row, col): the sum, or what the fused node after the matmul makes of it, with
// the same f32 operations that node's own shader (binary.comp) does.
void store_d(uint col, uint row, float sum) {
    if (row >= params.seg2) {
        d2_data[params.d_offset2 + col * (params.n - params.seg2) + row - params.seg2] = sum;
        return;
    }
    if (row >= params.seg1) {
        d1_data[params.d_offset1 + col * (params.seg2 - params.seg1) + row - params.seg1] = sum;
        return;
    }
    const uint i = col * params.seg1 + row;
    float v = sum;
    if (params.epilogue == KILN_EPILOGUE_ADD) {
        v = r_data[params.r_offset + i] + sum;
    } else if (params.epilogue == KILN_EPILOGUE_SWIGLU_GATE) {
        v = kiln_silu(sum) * r_data[params.r_offset + i];
    } else if (params.epilogue == KILN_EPILOGUE_SWIGLU_UP) {
        v = kiln_silu(r_data[params.r_offset + i]) * sum;
    }
    d_data[params.d_offset + i] = v;
}
// Float index of column `col`'s first element.
uint x_column_base(uint col) {
    const uint t = col / params.m;
    return params.x_offset + (col - t * params.m) * params.x_nb1 + (t % params.b2) * params.x_nb2 +
           (t / params.b2) * params.x_nb3;
}


// Paired: output (row, col) from its gate and up sums, as binary.comp's swiglu computes it.
void store_pair(uint col, uint row, float gate, float up) {
    d_data[params.d_offset + col * params.n + row] = kiln_silu(gate) * up;
}

// The first output row of workgroup `wg`, which computes `rows` weight rows.
uint first_out_row(uint wg, uint rows) { return params.paired != 0u ? wg * (rows / 2u) : wg * rows; }

// The first unit of weight row `j` (< rows) of workgroup `wg`; rows past the end repeat the last
// one (their sums are never stored).
uint weight_row_base(uint wg, uint rows, uint j) {
    if (params.paired != 0u) {
        const uint half_rows = rows / 2u;
        const uint row = min(wg * half_rows + j % half_rows, params.n - 1u);
        return (j < half_rows ? params.w_offset : params.w_offset1) + row * params.w_row_stride;
    }
    const uint row = min(wg * rows + j, params.n - 1u);
    if (row >= params.seg2) return params.w_offset2 + (row - params.seg2) * params.w_row_stride;
    if (row >= params.seg1) return params.w_offset1 + (row - params.seg1) * params.w_row_stride;
    return params.w_offset + row * params.w_row_stride;
}

// NORM: a column's 1/rms from its sum of squares (norm.comp's formula).
float inv_rms(float sum_sq) { return 1.0 / sqrt(sum_sq / float(params.k) + params.eps); }

// Element e of the column whose first element is at `base`: normalised when NORM (inv = the
// column's 1/rms), as stored otherwise.
float x_value(uint base, uint e, float inv) {
    if (NORM) return (x_data[base + e] * inv) * nw_data[params.nw_offset + e];
    return x_data[base + e];
}
vec4 x_value4(uint base, uint e, float inv, bool aligned) {
    vec4 v = aligned ? x_data4[(base + e) >> 2]
                     : vec4(x_data[base + e], x_data[base + e + 1u], x_data[base + e + 2u], x_data[base + e + 3u]);
    if (NORM) {
        const uint w = params.nw_offset + e;
        v = (v * inv) * vec4(nw_data[w], nw_data[w + 1u], nw_data[w + 2u], nw_data[w + 3u]);
    }
    return v;
}

// NORM: this invocation's share of a column's sum of squares (elements first, first + step, ...).
float sum_sq_part(uint base, uint first, uint step) {
    float s = 0.0;
    for (uint e = first; e < params.k; e += step) {
        const float v = x_data[base + e];
        s += v * v;
    }
    return s;
}

#endif
