#version 450
#include "common.glsl"

// dst[:, ids[r]] = convert(a[:, r]) for each row r of a: the KV-cache write. a is f32, f16 or
// bf16 (rows possibly strided); dst is f32, f16 or bf16 (e.g. an f16 cache). As in the
// reference, which writes rows in order: an id outside [0, dst_rows) (e.g. -1 for a padding
// row) writes nothing, and when two rows share an id the later one wins.
// One workgroup per row of a (grid-stride over rows); invocations stride along the row.

#include "float_tensor.glsl"

KILN_FLOAT_INPUT(0, a)
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
KILN_FLOAT_OUTPUT(2, dst)

layout(push_constant) uniform Params {
    uint ne0;         // row length
    uint rows;        // rows of a (= ids)
    uint dst_rows;    // rows of dst
    uint a_offset;    // elements, from the binding's start
    uint a_nb1;       // row stride in elements
    uint a_type;
    uint ids_offset;  // elements
    uint d_offset;
    uint d_nb1;
    uint d_type;
} p;

shared uint overwritten_later;

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint step = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const int id = ids[p.ids_offset + row];
        if (t == 0u) overwritten_later = 0u;
        barrier();
        for (uint j = row + 1u + t; j < p.rows; j += step) {
            if (ids[p.ids_offset + j] == id) atomicOr(overwritten_later, 1u);
        }
        barrier();
        const bool skip = overwritten_later != 0u || id < 0 || uint(id) >= p.dst_rows;
        barrier();  // every invocation has read the flag before the next row resets it
        if (skip) continue;
        const uint src = p.a_offset + row * p.a_nb1;
        const uint dst_row = p.d_offset + uint(id) * p.d_nb1;
        for (uint i = t; i < p.ne0; i += step) dst_store(p.d_type, dst_row + i, a_load(p.a_type, src + i));
    }
}
