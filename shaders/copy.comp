#version 450
#include "common.glsl"

// dst = convert(a) element by element in logical order (i0 fastest): the two tensors have the
// same element count but their shapes may differ, so element i is located in each by its own
// shape and strides. a and dst are f32, f16 or bf16, possibly strided views; the f16 / bf16
// rounding is graph/quant/half.h's (convert16.glsl).
// One invocation per element, grid-stride over the flat index.

#include "float_tensor.glsl"

KILN_FLOAT_INPUT(0, a)
KILN_FLOAT_OUTPUT(1, dst)

layout(push_constant) uniform Params {
    uint n;  // elements of a and dst
    uint a_ne0, a_ne1, a_ne2;
    uint a_offset;             // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint a_type;
    uint d_ne0, d_ne1, d_ne2;
    uint d_offset;
    uint d_nb1, d_nb2, d_nb3;
    uint d_type;
} p;

// Element offset of flat index i in a tensor of shape (ne0, ne1, ne2, *) and strides (1, nb1, nb2, nb3).
uint locate(uint i, uint ne0, uint ne1, uint ne2, uint nb1, uint nb2, uint nb3) {
    const uint i0 = i % ne0;
    uint r = i / ne0;
    const uint i1 = r % ne1;
    r /= ne1;
    return i0 + i1 * nb1 + (r % ne2) * nb2 + (r / ne2) * nb3;
}

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += KILN_GRID_STRIDE_X) {
        const uint ia = p.a_offset + locate(i, p.a_ne0, p.a_ne1, p.a_ne2, p.a_nb1, p.a_nb2, p.a_nb3);
        const uint id = p.d_offset + locate(i, p.d_ne0, p.d_ne1, p.d_ne2, p.d_nb1, p.d_nb2, p.d_nb3);
        dst_store(p.d_type, id, a_load(p.a_type, ia));
    }
}
