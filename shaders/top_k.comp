#version 450
#include "common.glsl"

// out[:, row] = the indices of the k largest values of each f32 row, largest first, as the
// reference orders them: larger values first, the lower index on equal values (+0 and -0 are
// equal), NaN after every number (NaNs among themselves by index). That order is total, so
// round r picks the first element in it that comes after round r - 1's pick: no chosen set to
// keep. One workgroup per row (grid-stride over rows); in each round every invocation keeps the
// first of its strided share, then a shared-memory tree keeps the first of those. k rounds of
// ne0 / workgroup steps per invocation (a router: 8-128 experts, k of 2-8).

layout(std430, binding = 0) readonly buffer Input { float a[]; };
layout(std430, binding = 1) writeonly buffer Output { int out_i32[]; };

layout(push_constant) uniform Params {
    uint ne0, ne1, ne2;  // a's shape (ne3 = rows / (ne1 * ne2))
    uint rows;
    uint a_offset;             // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint k;
    uint d_offset;  // ints, from the output binding's start
} p;

const uint kNone = 0xffffffffu;  // no candidate (this invocation's share is all taken)

shared float best_value[gl_WorkGroupSize.x];
shared uint best_index[gl_WorkGroupSize.x];

// Whether element (v, i) comes before (w, j) in the order above; kNone comes after everything.
bool before(float v, uint i, float w, uint j) {
    if (i == kNone) return false;
    if (j == kNone) return true;
    const bool vn = isnan(v), wn = isnan(w);
    if (vn != wn) return wn;
    if (!vn && v != w) return v > w;
    return i < j;
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint step = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint i1 = row % p.ne1;
        const uint i2 = (row / p.ne1) % p.ne2;
        const uint i3 = row / (p.ne1 * p.ne2);
        const uint src = p.a_offset + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3;
        float prev_value = 0.0;
        uint prev_index = kNone;  // round 0: everything is eligible
        for (uint r = 0u; r < p.k; ++r) {
            float bv = 0.0;
            uint bi = kNone;
            for (uint i = t; i < p.ne0; i += step) {
                const float x = a[src + i];
                const bool eligible = prev_index == kNone || before(prev_value, prev_index, x, i);
                if (eligible && before(x, i, bv, bi)) {
                    bv = x;
                    bi = i;
                }
            }
            best_value[t] = bv;
            best_index[t] = bi;
            barrier();
            for (uint s = step / 2u; s > 0u; s >>= 1u) {
                if (t < s && before(best_value[t + s], best_index[t + s], best_value[t], best_index[t])) {
                    best_value[t] = best_value[t + s];
                    best_index[t] = best_index[t + s];
                }
                barrier();
            }
            prev_value = best_value[0];
            prev_index = best_index[0];
            if (t == 0u) out_i32[p.d_offset + row * p.k + r] = int(prev_index);
            barrier();  // the arrays are reused by the next round
        }
    }
}
