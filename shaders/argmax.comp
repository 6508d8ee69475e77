#version 450
#include "common.glsl"

// out[row] = index of the largest value of each f32 row (rows contiguous, possibly strided), as
// the reference's scan `if (x[i] > x[best]) best = i` from best = 0 decides: the first maximum
// wins ties, NaNs are never chosen, and a row starting with NaN (or all NaN) gives 0.
// One workgroup per row (grid-stride over rows): each invocation keeps the best of its strided
// share (visited in increasing index, so its first maximum), then a shared-memory tree keeps
// the larger value, or the lower index on equal values. A 152k-entry vocabulary row costs each
// invocation 152k / workgroup steps.

layout(std430, binding = 0) readonly buffer Input { float a[]; };
layout(std430, binding = 1) writeonly buffer Output { int out_i32[]; };

layout(push_constant) uniform Params {
    uint ne0, ne1, ne2;  // a's shape (ne3 = rows / (ne1 * ne2))
    uint rows;
    uint a_offset;             // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
} p;

const uint kNone = 0xffffffffu;  // no candidate yet (or only NaNs)

shared float best_value[gl_WorkGroupSize.x];
shared uint best_index[gl_WorkGroupSize.x];

// Whether candidate (v, i) beats (bv, bi).
bool beats(float v, uint i, float bv, uint bi) {
    if (i == kNone) return false;
    if (bi == kNone) return true;
    return v > bv || (v == bv && i < bi);
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint step = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint i1 = row % p.ne1;
        const uint i2 = (row / p.ne1) % p.ne2;
        const uint i3 = row / (p.ne1 * p.ne2);
        const uint src = p.a_offset + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3;
        float bv = 0.0;
        uint bi = kNone;
        for (uint i = t; i < p.ne0; i += step) {
            const float x = a[src + i];
            if (!isnan(x) && (bi == kNone || x > bv)) {
                bv = x;
                bi = i;
            }
        }
        best_value[t] = bv;
        best_index[t] = bi;
        barrier();
        for (uint s = step / 2u; s > 0u; s >>= 1u) {
            if (t < s && beats(best_value[t + s], best_index[t + s], best_value[t], best_index[t])) {
                best_value[t] = best_value[t + s];
                best_index[t] = best_index[t + s];
            }
            barrier();
        }
        if (t == 0u) out_i32[row] = (isnan(a[src]) || best_index[0] == kNone) ? 0 : int(best_index[0]);
        barrier();  // the arrays are reused by the next row
    }
}
