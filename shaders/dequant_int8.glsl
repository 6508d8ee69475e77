// Quantized weight rows as 8-bit integers for the integer-dot matmuls (matmul_vec.comp and
// matmul_mm.comp with IDOT), run by run: a run is 32 consecutive elements of a block, the size of
// an activation block of quantize_q8.comp.
//
//   int8_run(b, j, q, ab)  run j of the block at unit b: q[i] packs elements 4i..4i+3 as signed
//                          bytes; ab = (a_lo, a_hi, c_lo, c_hi) so that the run's elements are
//                          a * q + c, with a and c per 16-element half of the run
//                          (K-quants with 16-element sub-blocks differ between the halves).
// With x quantized as dx * xq (xq signed bytes) and s = dx * sum(xq) per half, a run's dot is
//   dx * (a_lo * dot(q, xq)_lo + a_hi * dot(q, xq)_hi) + c_lo * s_lo + c_hi * s_hi,
// so offsets (q4_0's -8, Q4_K's mins) cost nothing per element. Integer values stay in 0..63
// (or are signed bytes already: Q8_0, IQ4_NL), so every product fits the signed dot.
//
// Includes dequant.glsl and dequant_units.glsl first; quantized WEIGHT_<TYPE>s only.
#ifndef KILN_DEQUANT_INT8_GLSL
#define KILN_DEQUANT_INT8_GLSL

#extension GL_EXT_spirv_intrinsics : require

// OpSDot with the packed 4x8-bit format (SPV_KHR_integer_dot_product; capabilities DotProduct
// and DotProductInput4x8BitPacked): Debian 12's glslang predates GL_EXT_integer_dot_product.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot_packed(uint a, uint b, spirv_literal int packed_format);
int dot4x8(uint a, uint b) { return sdot_packed(a, b, 0); }

// Bits 0..3 of h as bit 0 of bytes 0..3 (the four partial products do not overlap).
uint spread4(uint h) { return ((h & 15u) * 0x00204081u) & 0x01010101u; }

const uint kLowNibbles = 0x0f0f0f0fu;
const uint kLow2Bits = 0x03030303u;

#if defined(WEIGHT_Q4_0) || defined(WEIGHT_Q4_1) || defined(WEIGHT_IQ4_NL) || defined(WEIGHT_Q5_0) || \
    defined(WEIGHT_Q5_1) || defined(WEIGHT_Q8_0)
#define INT8_RUNS_PER_BLOCK 1u
#else
#define INT8_RUNS_PER_BLOCK 8u
#endif

#if defined(WEIGHT_IQ4_NL)
// The grid values of four nibbles as a word of signed bytes (kIQ4NL in dequant.glsl).
uint iq4_bytes(uint nibbles) {
    const uvec4 n = uvec4(nibbles, nibbles >> 8, nibbles >> 16, nibbles >> 24) & 0xfu;
    const uvec4 word = mix(mix(uvec4(kIQ4NL.x), uvec4(kIQ4NL.y), greaterThanEqual(n, uvec4(4u))),
                           mix(uvec4(kIQ4NL.z), uvec4(kIQ4NL.w), greaterThanEqual(n, uvec4(12u))),
                           greaterThanEqual(n, uvec4(8u)));
    const uvec4 v = (word >> (8u * (n & 3u))) & 0xffu;
    return v.x | (v.y << 8) | (v.z << 16) | (v.w << 24);
}
#endif

void int8_run(uint b, uint j, out uint q[8], out vec4 ab) {
#if defined(WEIGHT_Q4_0) || defined(WEIGHT_IQ4_NL) || defined(WEIGHT_Q4_1)
    // qs byte l: element l (low nibble), l + 16 (high nibble).
#if defined(WEIGHT_Q4_1)
    const vec2 dm = unpackHalf2x16(word1(b));
    const uvec4 w = words4(b + 2u);
    ab = dm.xxyy;
#else
    const float d = wf16(b);
    const uvec4 w = words4(b + 1u);
#if defined(WEIGHT_Q4_0)
    ab = vec4(d, d, -8.0 * d, -8.0 * d);
#else
    ab = vec4(d, d, 0.0, 0.0);
#endif
#endif
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        q[i] = w[i] & kLowNibbles;
        q[i + 4u] = (w[i] >> 4) & kLowNibbles;
#if defined(WEIGHT_IQ4_NL)
        q[i] = iq4_bytes(q[i]);
        q[i + 4u] = iq4_bytes(q[i + 4u]);
#endif
    }

#elif defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
#if defined(WEIGHT_Q5_1)
    const vec2 dm = unpackHalf2x16(word1(b));
    ab = dm.xxyy;
#else
    const float d = wf16(b);
    ab = vec4(d, d, -16.0 * d, -16.0 * d);
#endif
    const uint qh = word1(b + Q5_QH);  // bit l: bit 4 of element l
    const uvec4 w = words4(b + Q5_QH + 2u);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        q[i] = (w[i] & kLowNibbles) | (spread4(qh >> (4u * i)) << 4);
        q[i + 4u] = ((w[i] >> 4) & kLowNibbles) | (spread4(qh >> (4u * i + 16u)) << 4);
    }

#elif defined(WEIGHT_Q8_0)
    const float d = wf16(b);
    ab = vec4(d, d, 0.0, 0.0);
    uvec4 w[2];
    words8(b + 1u, w[0], w[1]);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) q[i] = w[i >> 2][i & 3u];

#elif defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K)
    // Run j = 4h + 2t + r: bits 4t + 2r of qs[32h + l]; sub-blocks 2j and 2j + 1.
    const uint h = j >> 2, shift = 2u * (j & 3u);
    uvec4 w[2];
    words8(b + K2_QS + 16u * h, w[0], w[1]);
#if defined(WEIGHT_Q2_K)
    const uint sc = w16(b + j);  // scale bytes of sub-blocks 2j, 2j + 1: scale low nibble, min high
    const vec2 d = unpackHalf2x16(word1(b + 40u));  // d, dmin
    ab = vec4(d.x * float(sc & 15u), d.x * float((sc >> 8) & 15u), -d.y * float((sc >> 4) & 15u),
              -d.y * float(sc >> 12));
    [[unroll]] for (uint i = 0u; i < 8u; ++i) q[i] = (w[i >> 2][i & 3u] >> shift) & kLow2Bits;
#else
    // Bit j of hmask[l] is bit 2 of element 32j + l: values (low2 + 4 * bit) - 4.
    uvec4 hm[2];
    words8(b, hm[0], hm[1]);
    const float d0 = q3_scale(b, 2u * j), d1 = q3_scale(b, 2u * j + 1u);
    ab = vec4(d0, d1, -4.0 * d0, -4.0 * d1);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) {
        q[i] = ((w[i >> 2][i & 3u] >> shift) & kLow2Bits) | (((hm[i >> 2][i & 3u] >> j) & 0x01010101u) << 2);
    }
#endif

#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
    // Run j = sub-block j: nibble j & 1 of qs[32 (j >> 1) + l]; Q5_K's bit 4 is bit j of qh[l].
    const vec2 sm = k4_scale_min(b, j);
    ab = vec4(sm.x, sm.x, -sm.y, -sm.y);
    uvec4 w[2];
    words8(b + K4_QS + 16u * (j >> 1), w[0], w[1]);
#if defined(WEIGHT_Q5_K)
    uvec4 qh[2];
    words8(b + 8u, qh[0], qh[1]);
#endif
    [[unroll]] for (uint i = 0u; i < 8u; ++i) {
        q[i] = (w[i >> 2][i & 3u] >> (4u * (j & 1u))) & kLowNibbles;
#if defined(WEIGHT_Q5_K)
        q[i] |= ((qh[i >> 2][i & 3u] >> j) & 0x01010101u) << 4;
#endif
    }

#elif defined(WEIGHT_Q6_K)
    // Run j = 4h + t: nibble t >> 1 of ql[64h + 32 (t & 1) + l], bits 2t of qh[32h + l]; values
    // (low4 | high2 << 4) - 32; sub-blocks 2j and 2j + 1 with signed scale bytes.
    const uint h = j >> 2, t = j & 3u;
    uvec4 ql[2], qh[2];
    words8(b + 32u * h + 16u * (t & 1u), ql[0], ql[1]);
    words8(b + 64u + 16u * h, qh[0], qh[1]);
    const uint sc = w16(b + 96u + j);
    const float d = wf16(b + 104u);
    const float d0 = d * float(int(sc << 24) >> 24), d1 = d * float(int(sc << 16) >> 24);
    ab = vec4(d0, d1, -32.0 * d0, -32.0 * d1);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) {
        q[i] = ((ql[i >> 2][i & 3u] >> (4u * (t >> 1))) & kLowNibbles) |
               (((qh[i >> 2][i & 3u] >> (2u * t)) & kLow2Bits) << 4);
    }
#else
#error "dequant_int8.glsl: quantized weight types only"
#endif
}

// The activation blocks of quantize_q8.comp (binding KILN_XQ_BINDING): 32 signed bytes per
// block as two uvec4s, and (d, d * sum of the first 16, d * sum of the last 16, 0) per block.
layout(std430, binding = KILN_XQ_BINDING) readonly buffer XQuant { uvec4 xq_data[]; };
layout(std430, binding = KILN_XQ_BINDING) readonly buffer XQuantMeta { vec4 xm_data[]; };

// Run j's dot with activation block `xb` (x bytes x0, x1 and meta xm).
float int8_run_dot(const uint q[8], vec4 ab, uvec4 x0, uvec4 x1, vec4 xm) {
    const int lo = dot4x8(q[0], x0.x) + dot4x8(q[1], x0.y) + dot4x8(q[2], x0.z) + dot4x8(q[3], x0.w);
    const int hi = dot4x8(q[4], x1.x) + dot4x8(q[5], x1.y) + dot4x8(q[6], x1.z) + dot4x8(q[7], x1.w);
    return xm.x * (ab.x * float(lo) + ab.y * float(hi)) + ab.z * xm.y + ab.w * xm.z;
}

#endif  // KILN_DEQUANT_INT8_GLSL
