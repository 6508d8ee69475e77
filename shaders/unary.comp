#version 450
#include "common.glsl"

// out = f(a) over a's shape; a is f32, f16 or bf16, possibly a strided view; out is packed f32.
// Variants (shaders/variants/elementwise.cmake): unary_scale (OP_SCALE: a * scale),
// unary_silu (OP_SILU), unary_gelu (OP_GELU), unary_sigmoid (OP_SIGMOID).
// One invocation per output element, grid-stride over the flat index.

#include "float_tensor.glsl"
#include "activations.glsl"

KILN_FLOAT_INPUT(0, a)
layout(std430, binding = 1) writeonly buffer Output { float out_f32[]; };

layout(push_constant) uniform Params {
    uint n;              // elements of out
    uint ne0, ne1, ne2;  // a's shape; ne3 = n / (ne0 * ne1 * ne2)
    uint a_offset;       // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint a_type;
    float scale;         // OP_SCALE
} p;

float apply(float x) {
#if defined(OP_SCALE)
    return x * p.scale;
#elif defined(OP_SILU)
    return kiln_silu(x);
#elif defined(OP_GELU)
    return kiln_gelu(x);
#elif defined(OP_SIGMOID)
    return 1.0 / (1.0 + exp(-x));
#else
#error "unary.comp needs one OP_ define"
#endif
}

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += KILN_GRID_STRIDE_X) {
        const uint i0 = i % p.ne0;
        uint r = i / p.ne0;
        const uint i1 = r % p.ne1;
        r /= p.ne1;
        const uint i2 = r % p.ne2;
        const uint i3 = r / p.ne2;
        out_f32[i] = apply(a_load(p.a_type, p.a_offset + i0 + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3));
    }
}
