#version 450
#include "common.glsl"

// Flash attention, one workgroup per (key split, query head, query token): gl_WorkGroupID =
// (split, h, t). The keys the query sees ([first, visible): causal stops at pos[t], a window
// starts later) are divided evenly among the splits, so keys past the query's position are never
// read and a decode step's short range still spreads over every split.
//
// A split walks its keys in tiles of WG keys with an online softmax:
//   1. scores: invocation i computes the dot product of q (scaled, in shared memory) with key
//      tile + i;
//   2. the tile's maximum (shared-memory tree), the running max m, and p_j = exp(s_j - m) to
//      shared memory; the running accumulators are rescaled by exp(m_old - m);
//   3. values: invocation (cv, kl) owns the 4 output columns 4cv..4cv+3 and the tile's keys
//      kl, kl + key_lanes, ...; it adds p_j * v_j to its columns and p_j to its running sum.
// At the end the key lanes' partial sums are added. With one split the normalised row is
// written to the output; with several, (m, l, acc[dv]) goes to a partials buffer that
// flash_attn_reduce.comp merges.
//
// Per-invocation loop trips per tile are d/4 + WG/key_lanes + log2(WG): a few thousand for
// 4096 keys (lavapipe stops loops after 65535); the host adds splits beyond 128 tiles.
//
// K and V are read as 32-bit words whatever their type (spec constants 1 and 2: 0 f32, 1 f16,
// 2 bf16), so the shader needs no 16-bit storage feature; the host checks that every K/V row
// starts on a 4-byte boundary.

layout(constant_id = 1) const uint K_TYPE = 0;
layout(constant_id = 2) const uint V_TYPE = 0;

layout(std430, binding = 0) readonly buffer QBuf { float q[]; };
layout(std430, binding = 1) readonly buffer KBuf { uint kw[]; };
layout(std430, binding = 2) readonly buffer VBuf { uint vw[]; };
layout(std430, binding = 3) readonly buffer PosBuf { int pos[]; };
layout(std430, binding = 4) writeonly buffer OutBuf { float o[]; };

layout(push_constant) uniform Params {
    uint q_off, q_nb1, q_nb2;  // bytes
    uint k_off, k_nb1, k_nb2;
    uint v_off, v_nb1, v_nb2;
    uint o_off, o_nb1, o_nb2;  // output (splits == 1) or partials (splits > 1): bytes
    uint pos_off;
    uint d, dv;
    uint hq;
    uint group;  // query heads per KV head
    uint n_kv;
    uint splits;
    float scale;
    uint causal;
    int window;
} p;

const uint WG = gl_WorkGroupSize.x;  // also the key tile; a power of two >= dv / 4
const uint MAX_D = 256;
#define NEG_INF uintBitsToFloat(0xff800000u)

shared vec4 q_s[MAX_D / 4];
shared float red_s[WG];
shared float p_s[WG];
shared vec4 acc_s[WG];
shared float sum_s[WG];

vec4 words_to_vec4(uint type, uint w0, uint w1) {
    if (type == 1) return vec4(unpackHalf2x16(w0), unpackHalf2x16(w1));
    return uintBitsToFloat(uvec4(w0 << 16, w0 & 0xffff0000u, w1 << 16, w1 & 0xffff0000u));
}

// Four consecutive elements starting at byte b (4-byte aligned).
vec4 load_k4(uint b) {
    const uint w = b >> 2;
    if (K_TYPE == 0) return uintBitsToFloat(uvec4(kw[w], kw[w + 1], kw[w + 2], kw[w + 3]));
    return words_to_vec4(K_TYPE, kw[w], kw[w + 1]);
}

vec4 load_v4(uint b) {
    const uint w = b >> 2;
    if (V_TYPE == 0) return uintBitsToFloat(uvec4(vw[w], vw[w + 1], vw[w + 2], vw[w + 3]));
    return words_to_vec4(V_TYPE, vw[w], vw[w + 1]);
}

void main() {
    const uint lid = gl_LocalInvocationID.x;
    const uint split = gl_WorkGroupID.x, h = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    const uint hk = h / p.group;
    const uint k_es = K_TYPE == 0 ? 4 : 2;
    const uint v_es = V_TYPE == 0 ? 4 : 2;

    // This split's keys.
    const int qpos = pos[(p.pos_off >> 2) + t];
    int first = 0, visible = int(p.n_kv);
    if (p.causal != 0) visible = clamp(qpos + 1, 0, int(p.n_kv));
    if (p.window > 0) first = max(0, qpos - p.window + 1);
    const uint len = visible > first ? uint(visible - first) : 0u;
    const uint per_split = (len + p.splits - 1) / p.splits;
    const uint begin = uint(first) + min(split * per_split, len);
    const uint end = uint(first) + min(begin - uint(first) + per_split, len);

    const uint q_base = (p.q_off + h * p.q_nb1 + t * p.q_nb2) >> 2;
    for (uint i = lid; i < p.d / 4; i += WG) {
        q_s[i] = vec4(q[q_base + 4 * i], q[q_base + 4 * i + 1], q[q_base + 4 * i + 2], q[q_base + 4 * i + 3]) * p.scale;
    }
    barrier();

    const uint ncv = p.dv / 4;
    const uint key_lanes = WG / ncv;
    const uint cv = lid % ncv, kl = lid / ncv;
    const bool accumulates = kl < key_lanes;
    const uint k_row0 = p.k_off + hk * p.k_nb1;
    const uint v_col = p.v_off + hk * p.v_nb1 + 4 * cv * v_es;

    float m = NEG_INF;  // the running max, the same in every invocation
    float l = 0.0;      // this invocation's share of the running sum
    vec4 acc = vec4(0.0);
    for (uint tile = begin; tile < end; tile += WG) {
        const uint j = tile + lid;
        float s = NEG_INF;
        if (j < end) {
            const uint kb = k_row0 + j * p.k_nb2;
            vec4 dot4 = vec4(0.0);
            for (uint i = 0; i < p.d / 4; ++i) dot4 += q_s[i] * load_k4(kb + 4 * i * k_es);
            s = (dot4.x + dot4.y) + (dot4.z + dot4.w);
        }
        red_s[lid] = s;
        barrier();
        for (uint stride = WG / 2; stride > 0; stride >>= 1) {
            if (lid < stride) red_s[lid] = max(red_s[lid], red_s[lid + stride]);
            barrier();
        }
        // The tile holds at least one key, so m_new is finite and exp(m - m_new) is 0 at first.
        const float m_new = max(m, red_s[0]);
        const float alpha = exp(m - m_new);
        m = m_new;
        p_s[lid] = j < end ? exp(s - m_new) : 0.0;
        acc *= alpha;
        l *= alpha;
        barrier();
        if (accumulates) {
            const uint n = min(WG, end - tile);
            for (uint jj = kl; jj < n; jj += key_lanes) {
                const float pj = p_s[jj];
                acc += pj * load_v4(v_col + (tile + jj) * p.v_nb2);
                l += pj;
            }
        }
        barrier();  // red_s and p_s are rewritten by the next tile
    }

    acc_s[lid] = acc;
    sum_s[lid] = l;
    barrier();
    if (lid < ncv) {
        vec4 total = acc_s[lid];
        float sum = sum_s[lid];
        for (uint lane = 1; lane < key_lanes; ++lane) {
            total += acc_s[lane * ncv + lid];
            sum += sum_s[lane * ncv + lid];
        }
        if (p.splits == 1) {
            const uint ob = ((p.o_off + h * p.o_nb1 + t * p.o_nb2) >> 2) + 4 * lid;
            const vec4 r = sum > 0.0 ? total / sum : vec4(0.0);
            o[ob] = r.x;
            o[ob + 1] = r.y;
            o[ob + 2] = r.z;
            o[ob + 3] = r.w;
        } else {
            // Partials of (t, h): splits records of dv + 2 floats, [m, l, acc...].
            const uint pb = (p.o_off >> 2) + ((t * p.hq + h) * p.splits + split) * (p.dv + 2);
            if (lid == 0) {
                o[pb] = m;
                o[pb + 1] = sum;
            }
            o[pb + 2 + 4 * lid] = total.x;
            o[pb + 3 + 4 * lid] = total.y;
            o[pb + 4 + 4 * lid] = total.z;
            o[pb + 5 + 4 * lid] = total.w;
        }
    }
}
