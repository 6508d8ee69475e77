#version 450
#include "common.glsl"

// out = a (op) b over a's shape, b broadcast (its index in each dimension wraps around its own
// size). a and b are f32, f16 or bf16, possibly strided views; out is packed f32.
// Variants (shaders/variants/elementwise.cmake): binary_add (OP_ADD), binary_mul (OP_MUL),
// binary_swiglu (OP_SWIGLU: silu(a) * b).
// One invocation per output element, grid-stride over the flat index.

#include "float_tensor.glsl"
#include "activations.glsl"

KILN_FLOAT_INPUT(0, a)
KILN_FLOAT_INPUT(1, b)
layout(std430, binding = 2) writeonly buffer Output { float out_f32[]; };

layout(push_constant) uniform Params {
    uint n;                // elements of out
    uint ne0, ne1, ne2;    // out's (= a's) shape; ne3 = n / (ne0 * ne1 * ne2)
    uint a_offset;         // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint a_type;
    uint b_ne0, b_ne1, b_ne2, b_ne3;
    uint b_offset;
    uint b_nb1, b_nb2, b_nb3;
    uint b_type;
} p;

float apply(float x, float y) {
#if defined(OP_ADD)
    return x + y;
#elif defined(OP_MUL)
    return x * y;
#elif defined(OP_SWIGLU)
    return kiln_silu(x) * y;
#else
#error "binary.comp needs OP_ADD, OP_MUL or OP_SWIGLU"
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
        const uint ia = p.a_offset + i0 + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3;
        const uint ib = p.b_offset + i0 % p.b_ne0 + (i1 % p.b_ne1) * p.b_nb1 + (i2 % p.b_ne2) * p.b_nb2 +
                        (i3 % p.b_ne3) * p.b_nb3;
        out_f32[i] = apply(a_load(p.a_type, ia), b_load(p.b_type, ib));
    }
}
