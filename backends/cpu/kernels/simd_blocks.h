#pragma once
// The ISA-specific primitives of the tiled quantized matmul (pair_tile.h, kquant_tile.h): block
// pairs and quads of int8 codes dotted with vpdpbusd on AVX-512 VNNI, plain loops in the scalar
// build (AVX2 has none: it keeps the row dots of quant_dot.h). The rest of simd.h's rules apply:
// compiled once per ISA into kiln::cpu::KILN_ISA_NS, no inline functions from outside it.
#include "backends/cpu/kernels/simd.h"

namespace kiln::cpu::KILN_ISA_NS {

// ---------------------------------------------------------------- 64-byte block pairs
// The tiled quantized matmul (pair_tile.h) works on two 32-element blocks at once:
//   P64  the 64 codes of a pair, unsigned (0..255); block 0 in bytes 0..31, block 1 in 32..63
//   I2   exact int32 dot products per block (AVX-512: lanes 0-7 block 0, lanes 8-15 block 1)
//   F2   floats laid out like I2: f2_pair(a, b) puts a scale on every lane of its block (it
//        multiplies an I2), f2_once(a, b) a term that f2_sum counts once per block
// Only AVX-512 (which here includes VNNI) and the scalar build have them. AVX-512 VNNI's vpdpbusd
// multiplies u8 x s8 and adds four products into an int32 lane without saturation, so codes may
// use all of 0..255 (signed weights are shifted by 128 and the shift is subtracted through the
// activation sums). AVX2's maddubs saturates int16 above code 127, so AVX2 keeps the B32 path.
#if defined(__AVX512F__)
#define KILN_CPU_PAIR_DOTS 1
using P64 = __m512i;
using I2 = __m512i;
using F2 = __m512;
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
// 32 bytes at a (and at b, else zeros).
inline P64 p64_load(const void* a, const void* b) {
    const __m512i lo = _mm512_maskz_loadu_epi64(0x0f, a);
    return b ? _mm512_mask_broadcast_i64x4(lo, 0xf0, load256(b)) : lo;
}
// 16 packed bytes at a (and at b) -> per block: low nibbles as bytes 0..15, high as 16..31.
inline P64 p64_nibbles(const uint8_t* a, const uint8_t* b) {
    __m512i v = _mm512_maskz_broadcast_i32x4(0x00ff, load128(a));
    if (b) v = _mm512_mask_broadcast_i32x4(v, 0xff00, load128(b));
    // 128-bit lanes 1 and 3 take the high nibbles.
    return _mm512_and_si512(_mm512_maskz_srlv_epi64(0xff, v, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)),
                            _mm512_set1_epi8(15));
}
inline P64 p64_or(P64 a, P64 b) { return _mm512_or_si512(a, b); }
inline P64 p64_xor80(P64 a) { return _mm512_xor_si512(a, _mm512_set1_epi8(static_cast<char>(0x80))); }
// Byte j of block 0 = val where bit j of a is set (block 1: b), else 0.
inline P64 p64_bits(uint32_t a, uint32_t b, uint8_t val) {
    return _mm512_maskz_set1_epi8(static_cast<__mmask64>(a) | (static_cast<__mmask64>(b) << 32), static_cast<char>(val));
}
// Byte j = table[idx[j]] (idx < 16).
inline P64 p64_lookup16(P64 idx, const uint8_t* table) {
    return _mm512_shuffle_epi8(_mm512_maskz_broadcast_i32x4(0xffff, load128(table)), idx);
}
inline I2 i2_zero() { return _mm512_setzero_si512(); }
// acc + per block sum u[j] * s[j] (u unsigned, s signed), exact.
inline I2 i2_dot(I2 acc, P64 u, P64 s) { return _mm512_dpbusd_epi32(acc, u, s); }
// -o * (sum of s) per block: the start value that turns i2_dot of codes into codes - o.
inline I2 i2_neg_offset(P64 s, uint8_t o) {
    return _mm512_sub_epi32(_mm512_setzero_si512(),
                            _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(o)), s));
}
inline F2 f2_zero() { return _mm512_setzero_ps(); }
inline F2 f2_pair(float a, float b) { return _mm512_mask_broadcastss_ps(_mm512_set1_ps(a), 0xff00, _mm_set_ss(b)); }
inline F2 f2_once(float a, float b) {
    return _mm512_mask_broadcastss_ps(_mm512_maskz_broadcastss_ps(0x0001, _mm_set_ss(a)), 0x0100, _mm_set_ss(b));
}
inline F2 f2_mul(F2 a, F2 b) { return _mm512_mul_ps(a, b); }
inline F2 f2_add(F2 a, F2 b) { return _mm512_add_ps(a, b); }
inline F2 f2_fma(F2 acc, F2 a, F2 b) { return _mm512_fmadd_ps(a, b, acc); }
// acc + p * s.
inline F2 f2_fma_i(F2 acc, I2 p, F2 s) { return _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll, p), s, acc); }
inline float f2_sum(F2 a) { return fv_sum(a); }
// K-quant steps (kquant_tile.h). A 256-element block is 16 groups of 16 codes; a step holds four
// codes of every group (step t, group k: codes 4t..4t+3 in bytes 4k..4k+3, the activations
// laid out alike by quantize_act_q8k), so vpdpbusd adds each group's products into its own
// int32 lane and the group scales are applied once per block, in float.
//   IG    16 int32 lanes, one per group
//   G16   16 floats, one per group (scales, mins, activation group sums)
using IG = __m512i;
using G16 = __m512;
// Where a step's 16 four-byte chunks come from: dword idx[k] + t of the source, shifted right
// by sh[k] bits (constant tables in kquant_tile.h).
struct DwordPick {
    int32_t idx[16];
    int32_t sh[16];
};
// Byte 4k + j = (dword (idx[k] + t) of the N bytes at p >> sh[k]) byte j & m (N: 32, 64, 128;
// needs m << sh[k] < 256, so bits shifted in from the next byte are masked off).
template <int N>
inline P64 p64_dwords(const uint8_t* p, const DwordPick& pick, int t, uint8_t m) {
    const __m512i idx = _mm512_add_epi32(_mm512_loadu_si512(pick.idx), _mm512_set1_epi32(t));
    __m512i v;
    if constexpr (N == 128) {
        v = _mm512_maskz_permutex2var_epi32(0xffff, _mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
    } else if constexpr (N == 64) {
        v = _mm512_maskz_permutexvar_epi32(0xffff, idx, _mm512_loadu_si512(p));
    } else {
        static_assert(N == 32);
        v = _mm512_maskz_permutexvar_epi32(0xffff, idx, _mm512_maskz_loadu_epi32(0x00ff, p));
    }
    return _mm512_and_si512(_mm512_maskz_srlv_epi32(0xffff, v, _mm512_loadu_si512(pick.sh)),
                            _mm512_set1_epi8(static_cast<char>(m)));
}
// a << s per byte; only for values that stay below 256.
inline P64 p64_shl(P64 a, int s) { return _mm512_sll_epi16(a, _mm_cvtsi32_si128(s)); }
inline P64 p64_load64(const void* p) { return _mm512_loadu_si512(p); }
inline IG ig_zero() { return _mm512_setzero_si512(); }
inline IG ig_add(IG a, IG b) { return _mm512_add_epi32(a, b); }
// acc + per group sum u[j] * s[j] (u unsigned, s signed), exact.
inline IG ig_dot(IG acc, P64 u, P64 s) { return _mm512_dpbusd_epi32(acc, u, s); }
// Eight unsigned bytes, each for two consecutive groups, times scale.
inline G16 g16_u8_pairs(uint64_t eight, float scale) {
    const __m128i v = _mm_cvtsi64_si128(static_cast<long long>(eight));
    return _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepu8_epi32(kAll, _mm_unpacklo_epi8(v, v))),
                         _mm512_set1_ps(scale));
}
inline G16 g16_i8(const int8_t* p16, float scale) {
    return _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepi8_epi32(kAll, load128(p16))), _mm512_set1_ps(scale));
}
inline G16 g16_i16(const int16_t* p16, float scale) {
    return _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepi16_epi32(kAll, load256(p16))), _mm512_set1_ps(scale));
}
inline G16 g16_scale(G16 a, float b) { return _mm512_mul_ps(a, _mm512_set1_ps(b)); }
// acc + a . b and acc + i . s, counted once by f2_sum.
inline F2 f2_fma_g(F2 acc, G16 a, G16 b) { return _mm512_fmadd_ps(a, b, acc); }
inline F2 f2_fma_ig(F2 acc, IG i, G16 s) { return _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll, i), s, acc); }
#elif !defined(__AVX2__)
#define KILN_CPU_PAIR_DOTS 1
struct P64 {
    uint8_t b[64];
};
struct I2 {
    int32_t v[2];
};
struct F2 {
    float v[2];
};
inline P64 p64_load(const void* a, const void* b) {
    P64 r{};
    std::memcpy(r.b, a, 32);
    if (b) std::memcpy(r.b + 32, b, 32);
    return r;
}
inline P64 p64_nibbles(const uint8_t* a, const uint8_t* b) {
    P64 r{};
    for (int j = 0; j < 16; ++j) {
        r.b[j] = a[j] & 15, r.b[j + 16] = a[j] >> 4;
        if (b) r.b[j + 32] = b[j] & 15, r.b[j + 48] = b[j] >> 4;
    }
    return r;
}
inline P64 p64_or(P64 a, P64 b) {
    for (int j = 0; j < 64; ++j) a.b[j] |= b.b[j];
    return a;
}
inline P64 p64_xor80(P64 a) {
    for (auto& x : a.b) x ^= 0x80;
    return a;
}
inline P64 p64_bits(uint32_t a, uint32_t b, uint8_t val) {
    P64 r;
    for (int j = 0; j < 32; ++j) r.b[j] = ((a >> j) & 1) ? val : 0, r.b[j + 32] = ((b >> j) & 1) ? val : 0;
    return r;
}
inline P64 p64_lookup16(P64 idx, const uint8_t* table) {
    for (auto& x : idx.b) x = table[x & 15];
    return idx;
}
inline I2 i2_zero() { return I2{}; }
// Products of int16 operands summed into int32: the vectoriser turns this into pmaddwd-style
// multiply-adds (a u8 x s8 product fits int16).
inline I2 i2_dot(I2 acc, P64 u, P64 s) {
    for (int h = 0; h < 2; ++h) {
        int32_t sum = 0;
        for (int j = 32 * h; j < 32 * h + 32; ++j) {
            const int16_t a = u.b[j], b = static_cast<int8_t>(s.b[j]);
            sum += a * b;
        }
        acc.v[h] += sum;
    }
    return acc;
}
inline I2 i2_neg_offset(P64 s, uint8_t o) {
    I2 r{};
    for (int h = 0; h < 2; ++h) {
        int32_t sum = 0;
        for (int j = 32 * h; j < 32 * h + 32; ++j) sum += static_cast<int8_t>(s.b[j]);
        r.v[h] = -o * sum;
    }
    return r;
}
inline F2 f2_zero() { return F2{}; }
inline F2 f2_pair(float a, float b) { return F2{{a, b}}; }
inline F2 f2_once(float a, float b) { return F2{{a, b}}; }
inline F2 f2_mul(F2 a, F2 b) { return F2{{a.v[0] * b.v[0], a.v[1] * b.v[1]}}; }
inline F2 f2_add(F2 a, F2 b) { return F2{{a.v[0] + b.v[0], a.v[1] + b.v[1]}}; }
inline F2 f2_fma(F2 acc, F2 a, F2 b) { return F2{{acc.v[0] + a.v[0] * b.v[0], acc.v[1] + a.v[1] * b.v[1]}}; }
inline F2 f2_fma_i(F2 acc, I2 p, F2 s) {
    return F2{{acc.v[0] + static_cast<float>(p.v[0]) * s.v[0], acc.v[1] + static_cast<float>(p.v[1]) * s.v[1]}};
}
inline float f2_sum(F2 a) { return a.v[0] + a.v[1]; }
struct IG {
    int32_t v[16];
};
struct G16 {
    float v[16];
};
struct DwordPick {
    int32_t idx[16];
    int32_t sh[16];
};
template <int N>
inline P64 p64_dwords(const uint8_t* p, const DwordPick& pick, int t, uint8_t m) {
    static_assert(N == 32 || N == 64 || N == 128);
    P64 r;
    for (int k = 0; k < 16; ++k) {
        uint32_t w;
        std::memcpy(&w, p + 4 * (pick.idx[k] + t), 4);
        w >>= pick.sh[k];
        for (int j = 0; j < 4; ++j) r.b[4 * k + j] = static_cast<uint8_t>((w >> (8 * j)) & m);
    }
    return r;
}
inline P64 p64_shl(P64 a, int s) {
    for (auto& x : a.b) x = static_cast<uint8_t>(x << s);
    return a;
}
inline P64 p64_load64(const void* p) {
    P64 r;
    std::memcpy(r.b, p, 64);
    return r;
}
inline IG ig_zero() { return IG{}; }
inline IG ig_add(IG a, IG b) {
    for (int k = 0; k < 16; ++k) a.v[k] += b.v[k];
    return a;
}
inline IG ig_dot(IG acc, P64 u, P64 s) {
    for (int k = 0; k < 16; ++k) {
        for (int j = 4 * k; j < 4 * k + 4; ++j) acc.v[k] += u.b[j] * static_cast<int8_t>(s.b[j]);
    }
    return acc;
}
inline G16 g16_u8_pairs(uint64_t eight, float scale) {
    G16 r;
    for (int g = 0; g < 16; ++g) r.v[g] = static_cast<float>((eight >> (8 * (g / 2))) & 255) * scale;
    return r;
}
inline G16 g16_i8(const int8_t* p16, float scale) {
    G16 r;
    for (int g = 0; g < 16; ++g) r.v[g] = static_cast<float>(p16[g]) * scale;
    return r;
}
inline G16 g16_i16(const int16_t* p16, float scale) {
    G16 r;
    for (int g = 0; g < 16; ++g) r.v[g] = static_cast<float>(p16[g]) * scale;
    return r;
}
inline G16 g16_scale(G16 a, float b) {
    for (auto& x : a.v) x *= b;
    return a;
}
inline F2 f2_fma_g(F2 acc, G16 a, G16 b) {
    float s = 0.0f;
    for (int g = 0; g < 16; ++g) s += a.v[g] * b.v[g];
    acc.v[0] += s;
    return acc;
}
inline F2 f2_fma_ig(F2 acc, IG i, G16 s) {
    float sum = 0.0f;
    for (int g = 0; g < 16; ++g) sum += static_cast<float>(i.v[g]) * s.v[g];
    acc.v[0] += sum;
    return acc;
}
#endif

// ---------------------------------------------------------------- 32-element block quads
// pair_tile.h's batched tiles take four blocks per step: a quad's codes are two P64 halves,
// `lo` with codes 0..15 and `hi` with codes 16..31 of block b in bytes 16b..16b+15 (the
// activations are stored alike, scratch.h BlockQ8A4), so two vpdpbusd give each block four
// int32 lanes and its scales are applied per four blocks instead of per two.
//   I4   int32 lanes per block (AVX-512: lanes 4b..4b+3 block b); F4 floats laid out alike,
//        f4_* "once" terms hold their value in one lane of the four
#if defined(__AVX512F__)
using I4 = __m512i;
using F4 = __m512;
// 16 bytes at p + b * stride into 128-bit lane b.
inline P64 p64_quad16(const void* vp, uint64_t stride) {
    const auto* p = static_cast<const uint8_t*>(vp);
    __m512i v = _mm512_castsi128_si512(load128(p));
    v = _mm512_inserti32x4(v, load128(p + stride), 1);
    v = _mm512_inserti32x4(v, load128(p + 2 * stride), 2);
    return _mm512_inserti32x4(v, load128(p + 3 * stride), 3);
}
inline P64 p64_lo_nibbles(P64 v) { return _mm512_and_si512(v, _mm512_set1_epi8(15)); }
inline P64 p64_hi_nibbles(P64 v) { return _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(15)); }
// Byte j = val where bit j of mask is set, else 0.
inline P64 p64_mask_bytes(uint64_t mask, uint8_t val) { return _mm512_maskz_set1_epi8(mask, static_cast<char>(val)); }
inline I4 i4_zero() { return _mm512_setzero_si512(); }
inline I4 i4_dot(I4 acc, P64 u, P64 s) { return _mm512_dpbusd_epi32(acc, u, s); }
// -o * (sum of lo and hi) per block.
inline I4 i4_neg_offset(P64 lo, P64 hi, uint8_t o) {
    const __m512i ov = _mm512_set1_epi8(static_cast<char>(o));
    return _mm512_sub_epi32(_mm512_setzero_si512(),
                            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ov, lo), ov, hi));
}
inline F4 f4_zero() { return _mm512_setzero_ps(); }
inline __m512 f4_spread(__m128 v) {
    return _mm512_maskz_permutexvar_ps(kAll, _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
                                       _mm512_zextps128_ps512(v));
}
inline __m128 halves4(const uint8_t* p, uint64_t stride) {
    uint64_t u = 0;
    for (int b = 0; b < 4; ++b) {
        uint16_t h;
        std::memcpy(&h, p + b * stride, 2);
        u |= static_cast<uint64_t>(h) << (16 * b);
    }
    return _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(u)));
}
// The f16 at p + b * stride on every lane of block b (scales) or once per block (mins).
inline F4 f4_halves(const uint8_t* p, uint64_t stride) { return f4_spread(halves4(p, stride)); }
inline F4 f4_halves_once(const uint8_t* p, uint64_t stride) {
    return _mm512_maskz_mov_ps(0x1111, f4_spread(halves4(p, stride)));
}
// v[b] on every lane of block b / once per block.
inline F4 f4_load4(const float* v) { return f4_spread(_mm_loadu_ps(v)); }
inline F4 f4_mul(F4 a, F4 b) { return _mm512_mul_ps(a, b); }
inline F4 f4_fma(F4 acc, F4 a, F4 b) { return _mm512_fmadd_ps(a, b, acc); }
inline F4 f4_fma_i(F4 acc, I4 p, F4 s) { return _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll, p), s, acc); }
inline float f4_sum(F4 a) { return fv_sum(a); }
#elif !defined(__AVX2__)
struct I4 {
    int32_t v[4];
};
struct F4 {
    float v[4];
};
inline P64 p64_quad16(const void* vp, uint64_t stride) {
    const auto* p = static_cast<const uint8_t*>(vp);
    P64 r;
    for (int b = 0; b < 4; ++b) std::memcpy(r.b + 16 * b, p + b * stride, 16);
    return r;
}
inline P64 p64_lo_nibbles(P64 v) {
    for (auto& x : v.b) x &= 15;
    return v;
}
inline P64 p64_hi_nibbles(P64 v) {
    for (auto& x : v.b) x >>= 4;
    return v;
}
inline P64 p64_mask_bytes(uint64_t mask, uint8_t val) {
    P64 r;
    for (int j = 0; j < 64; ++j) r.b[j] = ((mask >> j) & 1) ? val : 0;
    return r;
}
inline I4 i4_zero() { return I4{}; }
inline I4 i4_dot(I4 acc, P64 u, P64 s) {
    for (int b = 0; b < 4; ++b) {
        int32_t sum = 0;
        for (int j = 16 * b; j < 16 * b + 16; ++j) sum += static_cast<int16_t>(u.b[j]) * static_cast<int8_t>(s.b[j]);
        acc.v[b] += sum;
    }
    return acc;
}
inline I4 i4_neg_offset(P64 lo, P64 hi, uint8_t o) {
    I4 r{};
    for (int b = 0; b < 4; ++b) {
        int32_t sum = 0;
        for (int j = 16 * b; j < 16 * b + 16; ++j) sum += static_cast<int8_t>(lo.b[j]) + static_cast<int8_t>(hi.b[j]);
        r.v[b] = -o * sum;
    }
    return r;
}
inline F4 f4_zero() { return F4{}; }
inline F4 f4_halves(const uint8_t* p, uint64_t stride) {
    F4 r;
    for (int b = 0; b < 4; ++b) {
        uint16_t h;
        std::memcpy(&h, p + b * stride, 2);
        r.v[b] = h2f(h);
    }
    return r;
}
inline F4 f4_halves_once(const uint8_t* p, uint64_t stride) { return f4_halves(p, stride); }
inline F4 f4_load4(const float* v) { return F4{{v[0], v[1], v[2], v[3]}}; }
inline F4 f4_mul(F4 a, F4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i];
    return a;
}
inline F4 f4_fma(F4 acc, F4 a, F4 b) {
    for (int i = 0; i < 4; ++i) acc.v[i] += a.v[i] * b.v[i];
    return acc;
}
inline F4 f4_fma_i(F4 acc, I4 p, F4 s) {
    for (int i = 0; i < 4; ++i) acc.v[i] += static_cast<float>(p.v[i]) * s.v[i];
    return acc;
}
inline float f4_sum(F4 a) { return (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]); }
#endif

}  // namespace kiln::cpu::KILN_ISA_NS
