#version 450
#include "common.glsl"

// softmax(a * scale + mask) per row, f32. One workgroup per row (rows grid-strided over the
// groups). Pass 1: each invocation keeps an online (max, sum of exp) over its strided share of
// the row; the workgroup merges those pairs in a shared-memory tree. Pass 2 writes
// exp(v - max) / sum. A row whose values are all -inf (fully masked) is written as zeros.
//
// The mask (row i1 % mask_ne1 for row i1 of a) is read as 32-bit words whatever its type
// (spec constant 1: 0 f32, 1 f16, 2 bf16), so no 16-bit storage feature is needed.

layout(constant_id = 1) const uint MASK_TYPE = 0;

layout(std430, binding = 0) readonly buffer ABuf { float a[]; };
layout(std430, binding = 1) readonly buffer MaskBuf { uint mw[]; };
layout(std430, binding = 2) writeonly buffer OutBuf { float o[]; };

layout(push_constant) uniform Params {
    uint a_off, a_nb1, a_nb2, a_nb3;  // bytes
    uint o_off, o_nb1, o_nb2, o_nb3;  // bytes
    uint m_off, m_nb1;                // bytes
    uint ne0, ne1, ne2, ne3;
    uint m_ne1;
    uint has_mask;
    float scale;
} p;

const uint WG = gl_WorkGroupSize.x;  // a power of two
#define NEG_INF uintBitsToFloat(0xff800000u)

shared float max_s[WG];
shared float sum_s[WG];

float mask_at(uint byte_row, uint i) {
    if (MASK_TYPE == 0) return uintBitsToFloat(mw[(byte_row >> 2) + i]);
    // 16-bit element i lives in half (i & 1) of word i / 2 (rows start on 2-byte boundaries).
    const uint e = (byte_row >> 1) + i;
    const uint bits = (mw[e >> 1] >> (16 * (e & 1))) & 0xffffu;
    if (MASK_TYPE == 1) return unpackHalf2x16(bits).x;
    return uintBitsToFloat(bits << 16);
}

// Merges the running state (m, s) with (m2, s2); the sum of a state with m = -inf is 0.
void merge(inout float m, inout float s, float m2, float s2) {
    const float mx = max(m, m2);
    if (mx == NEG_INF) return;
    s = s * exp(m - mx) + s2 * exp(m2 - mx);
    m = mx;
}

void main() {
    const uint lid = gl_LocalInvocationID.x;
    const uint rows = p.ne1 * p.ne2 * p.ne3;
    for (uint r = gl_WorkGroupID.x; r < rows; r += gl_NumWorkGroups.x) {
        const uint i1 = r % p.ne1, i2 = (r / p.ne1) % p.ne2, i3 = r / (p.ne1 * p.ne2);
        const uint ab = (p.a_off + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3) >> 2;
        const uint ob = (p.o_off + i1 * p.o_nb1 + i2 * p.o_nb2 + i3 * p.o_nb3) >> 2;
        const uint mb = p.m_off + (i1 % p.m_ne1) * p.m_nb1;

        float m = NEG_INF, s = 0.0;
        for (uint i = lid; i < p.ne0; i += WG) {
            const float v = a[ab + i] * p.scale + (p.has_mask != 0 ? mask_at(mb, i) : 0.0);
            // One exp per value: rescale the sum only when the max grows.
            if (v == NEG_INF) continue;  // masked out: adds nothing
            if (v <= m) {
                s += exp(v - m);
            } else {
                s = s * exp(m - v) + 1.0;
                m = v;
            }
        }
        max_s[lid] = m;
        sum_s[lid] = s;
        barrier();
        for (uint stride = WG / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                float m1 = max_s[lid], s1 = sum_s[lid];
                merge(m1, s1, max_s[lid + stride], sum_s[lid + stride]);
                max_s[lid] = m1;
                sum_s[lid] = s1;
            }
            barrier();
        }
        const float row_max = max_s[0];
        const float inv_sum = sum_s[0] > 0.0 ? 1.0 / sum_s[0] : 0.0;
        barrier();  // max_s and sum_s are rewritten for the next row

        for (uint i = lid; i < p.ne0; i += WG) {
            const float v = a[ab + i] * p.scale + (p.has_mask != 0 ? mask_at(mb, i) : 0.0);
            o[ob + i] = row_max == NEG_INF ? 0.0 : exp(v - row_max) * inv_sum;
        }
    }
}
