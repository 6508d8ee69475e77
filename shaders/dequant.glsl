// Weight reading for every dtype kiln stores weights in, shared by matmul and get_rows.
// Define exactly one WEIGHT_<TYPE> (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K, IQ4_NL) and KILN_WEIGHT_BINDING before including this file.
//
// The weight buffer is read in "units": floats for F32, 16-bit words for everything else (quant
// blocks are only 2-byte aligned, e.g. q4_0 is 18 bytes). Offsets and strides the host passes
// are in units. Quantized types provide:
//   QK, BLOCK_UNITS   elements and 16-bit words per block
//   dequant4(b, p)    elements p..p+3 (p a multiple of 4) of the block starting at unit b
// Float types (KILN_WEIGHT_FLOAT) provide weight_at(i), the element at unit i.
// dequant_units.glsl adds whole 32- or 64-element units read as 32-bit words (matmul_vec,
// matmul_lanes).
//
// Every formula follows graph/quant's dequantizers operation for operation; `DQ_PRECISE` vars
// keep `a * b + c` from being fused into an fma, so values match the CPU reference bit for bit.
#ifndef KILN_DEQUANT_GLSL
#define KILN_DEQUANT_GLSL

#extension GL_EXT_shader_16bit_storage : require

#define DQ_PRECISE precise

// f16 -> f32 widening. Exact on every device kiln knows, but Vulkan lets an implementation flush
// f16 subnormals, so get_rows (a plain copy, compared tightly) defines DQ_EXACT_F16 to widen on
// bit patterns instead.
#if defined(DQ_EXACT_F16)
#include "convert16.glsl"
#define DQ_HALF_TO_FLOAT(h) kiln_f16_to_f32(h)
#else
#define DQ_HALF_TO_FLOAT(h) unpackHalf2x16(h).x
#endif

#if defined(WEIGHT_F32)
layout(std430, binding = KILN_WEIGHT_BINDING) readonly buffer Weights { float wdata[]; };
#else
layout(std430, binding = KILN_WEIGHT_BINDING) readonly buffer Weights { uint16_t wdata[]; };
#endif

#if !defined(WEIGHT_F32)
uint w16(uint i) { return uint(wdata[i]); }
// 4 bytes starting at unit i, little-endian (i need not be even).
uint w32(uint i) { return uint(wdata[i]) | (uint(wdata[i + 1]) << 16); }
float wf16(uint i) { return DQ_HALF_TO_FLOAT(uint(wdata[i])); }
// Byte `j` of the bytes starting at unit `base`.
uint wbyte(uint base, uint j) { return (uint(wdata[base + (j >> 1)]) >> ((j & 1u) * 8u)) & 0xffu; }
#endif

// The 4 bytes of a word, as 4 lanes.
uvec4 bytes4(uint q) { return uvec4(q, q >> 8, q >> 16, q >> 24) & 0xffu; }
uvec4 nib_lo(uint q) { return uvec4(q, q >> 8, q >> 16, q >> 24) & 0xfu; }
uvec4 nib_hi(uint q) { return uvec4(q >> 4, q >> 12, q >> 20, q >> 28) & 0xfu; }
ivec4 sbytes4(uint q) { return ivec4(int(q << 24), int(q << 16), int(q << 8), int(q)) >> 24; }

// ---------------------------------------------------------------- float types
#if defined(WEIGHT_F32) || defined(WEIGHT_F16) || defined(WEIGHT_BF16)
#define KILN_WEIGHT_FLOAT 1
#if defined(WEIGHT_F32)
float weight_at(uint i) { return wdata[i]; }
#elif defined(WEIGHT_F16)
float weight_at(uint i) { return DQ_HALF_TO_FLOAT(uint(wdata[i])); }
#else
float weight_bits_bf16(uint h) {
    uint x = h << 16;
    if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x00400000u;  // a signalling NaN comes back quiet
    return uintBitsToFloat(x);
}
float weight_at(uint i) { return weight_bits_bf16(uint(wdata[i])); }
#endif

// ---------------------------------------------------------------- 32-element blocks
#elif defined(WEIGHT_Q4_0) || defined(WEIGHT_IQ4_NL)
// d, qs[16]: byte j holds element j (low nibble) and j + 16 (high nibble).
#define QK 32u
#define BLOCK_UNITS 9u
#if defined(WEIGHT_Q4_0)
vec4 q4_value(uvec4 q, float d) { return vec4(ivec4(q) - 8) * d; }
#else
// The non-linear grid as signed bytes, 4 per word: kIQ4NL[q >> 2] byte q & 3. Looked up with
// selects and shifts rather than an indexed array, which lavapipe turns into per-lane memory
// accesses.
const uvec4 kIQ4NL = uvec4(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);
vec4 q4_value(uvec4 q, float d) {
    const uvec4 word = mix(mix(uvec4(kIQ4NL.x), uvec4(kIQ4NL.y), greaterThanEqual(q, uvec4(4u))),
                           mix(uvec4(kIQ4NL.z), uvec4(kIQ4NL.w), greaterThanEqual(q, uvec4(12u))),
                           greaterThanEqual(q, uvec4(8u)));
    return d * vec4(ivec4(word << (24u - 8u * (q & 3u))) >> 24);
}
#endif
vec4 dequant4(uint b, uint p) {
    const uint q = w32(b + 1u + ((p & 15u) >> 1));
    return q4_value(p < 16u ? nib_lo(q) : nib_hi(q), wf16(b));
}

#elif defined(WEIGHT_Q4_1)
// d, m, qs[16] as q4_0; y = q * d + m.
#define QK 32u
#define BLOCK_UNITS 10u
vec4 q4_1_value(uvec4 q, float d, float m) {
    DQ_PRECISE vec4 y = vec4(q) * d + m;
    return y;
}
vec4 dequant4(uint b, uint p) {
    const uint q = w32(b + 2u + ((p & 15u) >> 1));
    return q4_1_value(p < 16u ? nib_lo(q) : nib_hi(q), wf16(b), wf16(b + 1u));
}

#elif defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
// [m,] d, qh (u32: bit j = bit 4 of element j), qs[16] as q4_0.
#define QK 32u
#if defined(WEIGHT_Q5_0)
#define BLOCK_UNITS 11u
#define Q5_QH 1u
vec4 q5_value(uvec4 q, float d, float m) { return vec4(ivec4(q) - 16) * d; }
float q5_min(uint b) { return 0.0; }
#else
#define BLOCK_UNITS 12u
#define Q5_QH 2u
vec4 q5_value(uvec4 q, float d, float m) {
    DQ_PRECISE vec4 y = vec4(q) * d + m;
    return y;
}
float q5_min(uint b) { return wf16(b + 1u); }
#endif
// Bit 4 of the 4 elements first..first+3.
uvec4 q5_high(uint qh, uint first) { return ((uvec4(qh) >> (uvec4(0u, 1u, 2u, 3u) + first)) & 1u) << 4; }
vec4 dequant4(uint b, uint p) {
    const uint q = w32(b + Q5_QH + 2u + ((p & 15u) >> 1));
    return q5_value((p < 16u ? nib_lo(q) : nib_hi(q)) | q5_high(w32(b + Q5_QH), p), wf16(b), q5_min(b));
}

#elif defined(WEIGHT_Q8_0)
// d, qs[32] int8.
#define QK 32u
#define BLOCK_UNITS 17u
vec4 dequant4(uint b, uint p) { return vec4(sbytes4(w32(b + 1u + (p >> 1)))) * wf16(b); }

// ---------------------------------------------------------------- K-quants (256 elements)
#elif defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K)
// Both store 2 low bits per element: element 128h + 32s + l is bits 2s..2s+1 of qs[32h + l].
// Sub-blocks of 16 elements have their own scale.
#define QK 256u
#if defined(WEIGHT_Q2_K)
// scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
#define BLOCK_UNITS 42u
#define K2_QS 8u
// Scale (x) and min (y) of sub-block j from its scale byte.
vec2 q2_scale_min(uint b, uint sc) {
    return vec2(wf16(b + 40u) * float(sc & 15u), wf16(b + 41u) * float(sc >> 4));
}
vec4 q2_value(vec2 dm, uvec4 q) {
    DQ_PRECISE vec4 y = dm.x * vec4(q) - dm.y;
    return y;
}
vec4 dequant4(uint b, uint p) {
    const uint l = p & 31u;
    const uint q = w32(b + K2_QS + (p >> 3 & 16u) + (l >> 1));
    return q2_value(q2_scale_min(b, wbyte(b, p >> 4)), (bytes4(q) >> ((p >> 4) & 6u)) & 3u);
}
#else
// hmask[32], qs[64], scales[12] (16 six-bit codes), d.
#define BLOCK_UNITS 55u
#define K2_QS 16u
// The scale of sub-block j: d * (code - 32).
float q3_scale(uint b, uint j) {
    const uint low = j < 8u ? wbyte(b + 48u, j) & 15u : wbyte(b + 48u, j - 8u) >> 4;
    const uint high = (wbyte(b + 48u, 8u + (j & 3u)) >> (2u * (j >> 2))) & 3u;
    return wf16(b + 54u) * float(int(low | (high << 4)) - 32);
}
// low2: the 2 low bits; hmask4: 4 hmask bytes whose bit `bit` is bit 2 of the elements.
vec4 q3_value(float dl, uvec4 low2, uint hmask4, uint bit) {
    return dl * vec4(ivec4(low2) - ivec4(((bytes4(hmask4) >> bit) & 1u) ^ 1u) * 4);
}
vec4 dequant4(uint b, uint p) {
    const uint l = p & 31u;
    const uint q = w32(b + K2_QS + (p >> 3 & 16u) + (l >> 1));
    const uint bit = 4u * (p >> 7) + ((p >> 5) & 3u);
    return q3_value(q3_scale(b, p >> 4), (bytes4(q) >> ((p >> 4) & 6u)) & 3u, w32(b + (l >> 1)), bit);
}
#endif

#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
// d, dmin, scales[12] (8 six-bit scales and mins), [qh[32],] qs[128]. Chunk c of 64 elements
// uses qs[32c..32c+31]: low nibbles are sub-block 2c, high nibbles sub-block 2c + 1; Q5_K's
// bit 4 of element 32s + l is bit s of qh[l].
#define QK 256u
#if defined(WEIGHT_Q4_K)
#define BLOCK_UNITS 72u
#define K4_QS 8u
#else
#define BLOCK_UNITS 88u
#define K4_QS 24u
#endif
// d * scale (x) and dmin * min (y) of sub-block s.
vec2 k4_scale_min(uint b, uint s) {
    const uint sb = b + 2u;
    uvec2 sm;
    if (s < 4u) {
        sm = uvec2(wbyte(sb, s) & 63u, wbyte(sb, s + 4u) & 63u);
    } else {
        sm = uvec2((wbyte(sb, s + 4u) & 15u) | ((wbyte(sb, s - 4u) >> 6) << 4),
                   (wbyte(sb, s + 4u) >> 4) | ((wbyte(sb, s) >> 6) << 4));
    }
    return vec2(wf16(b) * float(sm.x), wf16(b + 1u) * float(sm.y));
}
vec4 k4_value(vec2 dm, uvec4 q) {
    DQ_PRECISE vec4 y = dm.x * vec4(q) - dm.y;
    return y;
}
vec4 dequant4(uint b, uint p) {
    const uint s = p >> 5, l = p & 31u;
    const uint q = w32(b + K4_QS + 16u * (p >> 6) + (l >> 1));
    uvec4 v = (s & 1u) == 0u ? nib_lo(q) : nib_hi(q);
#if defined(WEIGHT_Q5_K)
    v |= ((bytes4(w32(b + 8u + (l >> 1))) >> s) & 1u) << 4;
#endif
    return k4_value(k4_scale_min(b, s), v);
}

#elif defined(WEIGHT_Q6_K)
// ql[128], qh[64], scales[16] int8, d. In half h, quarter t (element 128h + 32t + l, l < 32):
// low 4 bits = nibble t/2 of ql[64h + 32(t&1) + l], high 2 bits = bits 2t..2t+1 of qh[32h + l].
// Sub-blocks of 16 elements have their own scale.
#define QK 256u
#define BLOCK_UNITS 105u
// d * scales[j]: the multiplier of sub-block j (from its signed scale byte).
float q6_scale(uint b, uint sc_byte) { return wf16(b + 104u) * float(int(sc_byte << 24) >> 24); }
vec4 q6_value(float dl, uvec4 low4, uint qh, uint t) {
    return dl * vec4(ivec4(low4 | (((bytes4(qh) >> (2u * t)) & 3u) << 4)) - 32);
}
vec4 dequant4(uint b, uint p) {
    const uint h = p >> 7, t = (p >> 5) & 3u, l = p & 31u;
    const uint ql = w32(b + 32u * h + 16u * (t & 1u) + (l >> 1));
    const uint qh = w32(b + 64u + 16u * h + (l >> 1));
    return q6_value(q6_scale(b, wbyte(b + 96u, p >> 4)), t < 2u ? nib_lo(ql) : nib_hi(ql), qh, t);
}

#else
#error "dequant.glsl: define one WEIGHT_<TYPE>"
#endif

#endif  // KILN_DEQUANT_GLSL
