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
} params;

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

// Stores output (row, col): the sum, or what the fused node after the matmul makes of it, with
// the same f32 operations that node's own shader (binary.comp) does.
void store_d(uint col, uint row, float sum) {
    const uint i = col * params.n + row;
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

#endif
