#version 450
#include "common.glsl"

// out = a and b joined along dimension `dim`: element (i0, i1, i2, i3) of out comes from a when
// its index along dim is below a's size there, else from b at that index minus a's size. a and
// b are f32, f16 or bf16, possibly strided views; out is packed f32.
// One invocation per output element, grid-stride over the flat index.

#include "float_tensor.glsl"

KILN_FLOAT_INPUT(0, a)
KILN_FLOAT_INPUT(1, b)
layout(std430, binding = 2) writeonly buffer Output { float out_f32[]; };

layout(push_constant) uniform Params {
    uint n;              // elements of out
    uint ne0, ne1, ne2;  // out's shape (ne3 = n / (ne0 * ne1 * ne2))
    uint dim;
    uint split;          // a's size along dim
    uint a_offset;       // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint a_type;
    uint b_offset;
    uint b_nb1, b_nb2, b_nb3;
    uint b_type;
} p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += KILN_GRID_STRIDE_X) {
        uint idx[4];
        idx[0] = i % p.ne0;
        uint r = i / p.ne0;
        idx[1] = r % p.ne1;
        r /= p.ne1;
        idx[2] = r % p.ne2;
        idx[3] = r / p.ne2;
        if (idx[p.dim] < p.split) {
            out_f32[i] = a_load(p.a_type, p.a_offset + idx[0] + idx[1] * p.a_nb1 + idx[2] * p.a_nb2 + idx[3] * p.a_nb3);
        } else {
            idx[p.dim] -= p.split;
            out_f32[i] = b_load(p.b_type, p.b_offset + idx[0] + idx[1] * p.b_nb1 + idx[2] * p.b_nb2 + idx[3] * p.b_nb3);
        }
    }
}
