// Push constants and activation/output/residual bindings shared by the matmul shaders
// (kiln::vk::MatmulParams in backends/vulkan/ops/matmul.cpp matches this block).
// dst[col * n + row] = sum_i w[row][i] * x[col][i], where col flattens x's dims 1..3.
#ifndef KILN_MATMUL_PARAMS_GLSL
#define KILN_MATMUL_PARAMS_GLSL

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
    uint r_offset;      // floats; the residual is packed [n, cols] like dst
    uint add_residual;  // 1: dst = sum + residual (matmul + add fused); 0: binding 3 is unused
} params;

// X_VEC4 (specialization constant set by the including shader): x's offset and strides are
// multiples of 4 floats, so runs of 4 are read as one vec4.
layout(std430, binding = 1) readonly buffer XBuffer { float x_data[]; };
layout(std430, binding = 1) readonly buffer XBuffer4 { vec4 x_data4[]; };
layout(std430, binding = 2) writeonly buffer DBuffer { float d_data[]; };
layout(std430, binding = 3) readonly buffer RBuffer { float r_data[]; };

// Stores output (row, col): the sum, plus the residual when an add is fused into the epilogue
// (the same f32 addition the add node would do).
void store_d(uint col, uint row, float sum) {
    const uint i = col * params.n + row;
    d_data[params.d_offset + i] = params.add_residual != 0u ? r_data[params.r_offset + i] + sum : sum;
}
// Float index of column `col`'s first element.
uint x_column_base(uint col) {
    const uint t = col / params.m;
    return params.x_offset + (col - t * params.m) * params.x_nb1 + (t % params.b2) * params.x_nb2 +
           (t / params.b2) * params.x_nb3;
}

#endif
