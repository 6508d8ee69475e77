#version 450
#include "common.glsl"

// dst[:, i] = dequantize(table[:, ids[i], i / m]) as f32 (ids [m, b]: lookup i reads table slice
// i / m); ids outside [0, rows) give a row of zeros
// (the reference's rule). One invocation per 4 elements of quantized rows, per element of
// float rows, in a grid-stride loop over every output row (trip count total / invocations:
// a few for real embedding lookups). Table type: one WEIGHT_<TYPE> define (dequant.glsl).

#extension GL_EXT_control_flow_attributes : require

#define DQ_EXACT_F16 1
#define KILN_WEIGHT_BINDING 0
#include "dequant.glsl"

layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer Dst { float d_data[]; };

layout(push_constant) uniform GetRowsParams {
    uint n;             // elements per row
    uint count;         // ids (m * b)
    uint rows;          // table rows
    uint t_offset;      // first table unit (float for F32, 16-bit word otherwise)
    uint t_row_stride;  // units between table rows
    uint ids_offset;    // ints
    uint d_offset;      // floats
    uint d_row_stride;  // floats
    uint m;             // ids per table slice
    uint t_slice_stride;  // units between table slices
} params;

#if defined(KILN_WEIGHT_FLOAT)
const uint PER_INVOCATION = 1u;
#else
const uint PER_INVOCATION = 4u;
#endif

void main() {
    const uint per_row = params.n / PER_INVOCATION;
    const uint total = per_row * params.count;
    for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += KILN_GRID_STRIDE_X) {
        const uint i = idx / per_row;
        const uint p = (idx - i * per_row) * PER_INVOCATION;
        const int id = ids[params.ids_offset + i];
        const uint d = params.d_offset + i * params.d_row_stride + p;
        if (id < 0 || uint(id) >= params.rows) {
            [[unroll]] for (uint e = 0u; e < PER_INVOCATION; ++e) d_data[d + e] = 0.0;
            continue;
        }
        const uint base = params.t_offset + (i / params.m) * params.t_slice_stride + uint(id) * params.t_row_stride;
#if defined(KILN_WEIGHT_FLOAT)
        d_data[d] = weight_at(base + p);
#else
        const vec4 v = dequant4(base + (p / QK) * BLOCK_UNITS, p % QK);
        [[unroll]] for (uint e = 0u; e < 4u; ++e) d_data[d + e] = v[e];
#endif
    }
}
