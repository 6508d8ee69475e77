// Weight rows in "units" of one or two 32-element runs, read as few 32-bit words as the layout
// allows (matmul_vec, matmul_lanes):
//   UNIT_RUNS                  runs per unit: 2 for K-quants (two runs sharing their loads:
//                              nibbles or shifts of the same bytes), else 1
//   UNITS_PER_BLOCK            units per block
//   unit_runs(u)               element offsets within the block of unit u's runs
//   dequant_unit(b, u, out v)  the 32 * UNIT_RUNS elements of unit u of the block at unit b,
//                              run by run, in order (v[8 * UNIT_RUNS])
// Float weights (KILN_WEIGHT_FLOAT) are treated as blocks of 32 elements (rows may end in a
// partial block, which the kernels handle element by element).
//
// Why words: on lavapipe (Mesa's llvmpipe) every buffer load instruction is a loop over the
// SIMD lanes with a bounds check per component, so the cost of a kernel (and of compiling it)
// is about the number of loaded components; a 32-bit word carries twice the bytes of a 16-bit
// unit. GPUs also prefer fewer, wider loads.
//
// The including shader declares, before including dequant.glsl and this file:
//   W_ALIGNED    (bool specialization constant) F32: every block starts on a 16-byte boundary
//                (read as vec4s); other types: every block starts at an even unit (words need
//                no realignment). False is always correct.
//   DQ_LAST_WORD the last 32-bit word of the weight binding (realignment reads one word past
//                the bytes it needs; it is clamped here).
#ifndef KILN_DEQUANT_UNITS_GLSL
#define KILN_DEQUANT_UNITS_GLSL

#if defined(WEIGHT_F32)
layout(std430, binding = KILN_WEIGHT_BINDING) readonly buffer Weights4 { vec4 wdata4[]; };
#else
layout(std430, binding = KILN_WEIGHT_BINDING) readonly buffer Weights32 { uint wdata32[]; };

// The 32 bits starting half-way into `lo`.
uint funnel16(uint lo, uint hi) { return (lo >> 16) | (hi << 16); }

// The word at units u, u + 1 (u of any parity).
uint word1(uint u) { return W_ALIGNED ? wdata32[u >> 1] : w32(u); }

// The words at units u, u + 2, u + 4, u + 6: aligned loads, realigned by one unit when u is
// odd (a select, not a branch: lanes may differ).
uvec4 words4(uint u) {
    const uint w = u >> 1;
    const uvec4 a = uvec4(wdata32[w], wdata32[w + 1u], wdata32[w + 2u], wdata32[w + 3u]);
    if (W_ALIGNED) return a;
    const uint e = wdata32[min(w + 4u, DQ_LAST_WORD)];
    const uvec4 f = uvec4(funnel16(a.x, a.y), funnel16(a.y, a.z), funnel16(a.z, a.w), funnel16(a.w, e));
    return mix(a, f, bvec4((u & 1u) != 0u));
}

// 32 bytes from unit u: words4(u) and words4(u + 8) sharing their middle load.
void words8(uint u, out uvec4 lo, out uvec4 hi) {
    const uint w = u >> 1;
    lo = uvec4(wdata32[w], wdata32[w + 1u], wdata32[w + 2u], wdata32[w + 3u]);
    hi = uvec4(wdata32[w + 4u], wdata32[w + 5u], wdata32[w + 6u], wdata32[w + 7u]);
    if (W_ALIGNED) return;
    const uint e = wdata32[min(w + 8u, DQ_LAST_WORD)];
    const bvec4 odd = bvec4((u & 1u) != 0u);
    const uvec4 flo = uvec4(funnel16(lo.x, lo.y), funnel16(lo.y, lo.z), funnel16(lo.z, lo.w), funnel16(lo.w, hi.x));
    const uvec4 fhi = uvec4(funnel16(hi.x, hi.y), funnel16(hi.y, hi.z), funnel16(hi.z, hi.w), funnel16(hi.w, e));
    lo = mix(lo, flo, odd);
    hi = mix(hi, fhi, odd);
}
#endif

#if defined(KILN_WEIGHT_FLOAT) || defined(WEIGHT_Q4_0) || defined(WEIGHT_IQ4_NL) || defined(WEIGHT_Q4_1) || \
    defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1) || defined(WEIGHT_Q8_0)
#define UNIT_RUNS 1u
#define UNITS_PER_BLOCK 1u
uvec2 unit_runs(uint u) { return uvec2(0u); }
#else
#define UNIT_RUNS 2u
#define UNITS_PER_BLOCK 4u
#endif

#if defined(KILN_WEIGHT_FLOAT)
#if !defined(QK)
#define QK 32u
#define BLOCK_UNITS 32u  // one unit per element
#endif
#if defined(WEIGHT_F32)
void dequant_unit(uint b, uint u, out vec4 v[8]) {
    if (W_ALIGNED) {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) v[i] = wdata4[(b >> 2) + i];
    } else {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            v[i] = vec4(wdata[b + 4u * i], wdata[b + 4u * i + 1u], wdata[b + 4u * i + 2u], wdata[b + 4u * i + 3u]);
        }
    }
}
#else
// Two 16-bit floats of a word.
vec2 halves(uint q) {
#if defined(WEIGHT_F16)
    return vec2(DQ_HALF_TO_FLOAT(q & 0xffffu), DQ_HALF_TO_FLOAT(q >> 16));
#else
    return vec2(weight_bits_bf16(q & 0xffffu), weight_bits_bf16(q >> 16));
#endif
}
void dequant_unit(uint b, uint u, out vec4 v[8]) {
    [[unroll]] for (uint h = 0u; h < 2u; ++h) {
        uvec4 lo, hi;
        words8(b + 16u * h, lo, hi);
        v[4u * h + 0u] = vec4(halves(lo.x), halves(lo.y));
        v[4u * h + 1u] = vec4(halves(lo.z), halves(lo.w));
        v[4u * h + 2u] = vec4(halves(hi.x), halves(hi.y));
        v[4u * h + 3u] = vec4(halves(hi.z), halves(hi.w));
    }
}
#endif

#elif defined(WEIGHT_Q4_0) || defined(WEIGHT_IQ4_NL) || defined(WEIGHT_Q4_1)
void dequant_unit(uint b, uint u, out vec4 v[8]) {
#if defined(WEIGHT_Q4_1)
    const vec2 dm = unpackHalf2x16(word1(b));
    const uvec4 q = words4(b + 2u);
#define Q4_VALUE(n) q4_1_value(n, dm.x, dm.y)
#else
    const float d = wf16(b);
    const uvec4 q = words4(b + 1u);
#define Q4_VALUE(n) q4_value(n, d)
#endif
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        v[i] = Q4_VALUE(nib_lo(q[i]));
        v[i + 4u] = Q4_VALUE(nib_hi(q[i]));
    }
#undef Q4_VALUE
}

#elif defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
void dequant_unit(uint b, uint u, out vec4 v[8]) {
#if defined(WEIGHT_Q5_1)
    const vec2 dm = unpackHalf2x16(word1(b));
#else
    const vec2 dm = vec2(wf16(b), 0.0);
#endif
    const uint qh = word1(b + Q5_QH);
    const uvec4 q = words4(b + Q5_QH + 2u);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        v[i] = q5_value(nib_lo(q[i]) | q5_high(qh, 4u * i), dm.x, dm.y);
        v[i + 4u] = q5_value(nib_hi(q[i]) | q5_high(qh, 4u * i + 16u), dm.x, dm.y);
    }
}

#elif defined(WEIGHT_Q8_0)
void dequant_unit(uint b, uint u, out vec4 v[8]) {
    const float d = wf16(b);
    uvec4 q[2];
    words8(b + 1u, q[0], q[1]);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) v[i] = vec4(sbytes4(q[i >> 2][i & 3u])) * d;
}

#elif defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K)
// Unit u = 2h + j: shifts 2j and 2j + 1 of qs[32h + l], l < 32: elements 128h + 64j + l and
// 128h + 64j + 32 + l. Scales are per 16 elements: sub-blocks 8h + 4j .. 8h + 4j + 3.
uvec2 unit_runs(uint u) {
    const uint p = 128u * (u >> 1) + 64u * (u & 1u);
    return uvec2(p, p + 32u);
}
void dequant_unit(uint b, uint u, out vec4 v[16]) {
    const uint h = u >> 1, j = u & 1u;
    uvec4 q[2];
    words8(b + K2_QS + 16u * h, q[0], q[1]);
#if defined(WEIGHT_Q2_K)
    const uint sc = word1(b + 4u * h + 2u * j);  // scale bytes of the unit's 4 sub-blocks
    const vec2 d = unpackHalf2x16(word1(b + 40u));  // d, dmin
    vec2 dm[4];
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        const uint c = (sc >> (8u * i)) & 0xffu;
        dm[i] = vec2(d.x * float(c & 15u), d.y * float(c >> 4));
    }
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            v[8u * r + i] = q2_value(dm[2u * r + (i >> 2)], (bytes4(q[i >> 2][i & 3u]) >> (4u * j + 2u * r)) & 3u);
        }
    }
#else
    uvec4 hm[2];
    words8(b, hm[0], hm[1]);
    // Scale codes of sub-blocks 8h + 4j + i: low 4 bits in nibble h of scales[4j + i], high 2
    // bits at 2 * (2h + j) of scales[8 + i].
    const uint low = word1(b + 48u + 2u * j), high = word1(b + 52u);
    const float d = wf16(b + 54u);
    float dl[4];
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        const uint code = ((low >> (8u * i + 4u * h)) & 15u) | (((high >> (8u * i + 4u * h + 2u * j)) & 3u) << 4);
        dl[i] = d * float(int(code) - 32);
    }
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            v[8u * r + i] = q3_value(dl[2u * r + (i >> 2)], (bytes4(q[i >> 2][i & 3u]) >> (4u * j + 2u * r)) & 3u,
                                     hm[i >> 2][i & 3u], 4u * h + 2u * j + r);
        }
    }
#endif
}

#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
// Unit c: qs[32c + l], l < 32: low nibbles are elements 64c + l (sub-block 2c), high nibbles
// 64c + 32 + l (sub-block 2c + 1); Q5_K's bit 4 is bit 2c / 2c + 1 of qh[l].
uvec2 unit_runs(uint c) { return uvec2(64u * c, 64u * c + 32u); }
void dequant_unit(uint b, uint c, out vec4 v[16]) {
    // Sub-block s's 6-bit scale and min (graph/quant/kquant_scales.h), from the 12 scale bytes.
    const vec2 d = unpackHalf2x16(word1(b));  // d, dmin
    const uvec3 sw = uvec3(word1(b + 2u), word1(b + 4u), word1(b + 6u));
    vec2 dm[2];
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
        const uint s = 2u * c + r, sh = 8u * (s & 3u);
        const uvec3 by = (sw >> sh) & 0xffu;  // scales[s & 3], [4 + (s & 3)], [8 + (s & 3)]
        const uvec2 sm = s < 4u ? uvec2(by.x & 63u, by.y & 63u)
                                : uvec2((by.z & 15u) | ((by.x >> 6) << 4), (by.z >> 4) | ((by.y >> 6) << 4));
        dm[r] = vec2(d.x * float(sm.x), d.y * float(sm.y));
    }
    uvec4 q[2];
    words8(b + K4_QS + 16u * c, q[0], q[1]);
#if defined(WEIGHT_Q5_K)
    uvec4 qh[2];
    words8(b + 8u, qh[0], qh[1]);
#endif
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            uvec4 n = (bytes4(q[i >> 2][i & 3u]) >> (4u * r)) & 15u;
#if defined(WEIGHT_Q5_K)
            n |= ((bytes4(qh[i >> 2][i & 3u]) >> (2u * c + r)) & 1u) << 4;
#endif
            v[8u * r + i] = k4_value(dm[r], n);
        }
    }
}

#elif defined(WEIGHT_Q6_K)
// Unit u = 2h + t: ql[64h + 32t + l], l < 32: low nibbles are quarter t (elements
// 128h + 32t + l), high nibbles quarter t + 2 (+ 64); high bits 2t.. / 2t + 4.. of qh[32h + l].
// Scales are per 16 elements.
uvec2 unit_runs(uint u) {
    const uint p = 128u * (u >> 1) + 32u * (u & 1u);
    return uvec2(p, p + 64u);
}
void dequant_unit(uint b, uint u, out vec4 v[16]) {
    const uint h = u >> 1, t = u & 1u;
    uvec4 ql[2], qh[2];
    words8(b + 32u * h + 16u * t, ql[0], ql[1]);
    words8(b + 64u + 16u * h, qh[0], qh[1]);
    // Scale bytes of the runs' sub-blocks: 2s, 2s + 1 for s = 4h + t and s + 2.
    const uint s0 = 4u * h + t;
    const uint sc[2] = uint[2](w16(b + 96u + s0), w16(b + 98u + s0));
    const float d = wf16(b + 104u);
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
        const float dl[2] = float[2](d * float(int(sc[r] << 24) >> 24), d * float(int(sc[r] << 16) >> 24));
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            const uvec4 low4 = (bytes4(ql[i >> 2][i & 3u]) >> (4u * r)) & 15u;
            v[8u * r + i] = q6_value(dl[i >> 2], low4, qh[i >> 2][i & 3u], t + 2u * r);
        }
    }
}
#endif

#endif  // KILN_DEQUANT_UNITS_GLSL
