#pragma once
// The only ISA-specific code of the CPU kernels (with simd_blocks.h, the tiled matmul's block
// dots): a handful of primitives, each written once per instruction set in #if blocks. Every
// kernel source is compiled three times (scalar, AVX2, AVX-512; see ../CMakeLists.txt) into
// namespace kiln::cpu::KILN_ISA_NS, so these inline functions are distinct symbols per ISA and
// never mix.
//
//   FV    float vector of kW lanes (16 AVX-512, 8 AVX2, 8-float struct in scalar builds)
//   B32   32 bytes of int8/uint8 codes (one legacy quant block, or a 32-element slice)
//   I32v  int32 partial sums of an int8 dot product (lanes on SIMD, one int in scalar builds)
//   QAcc  float accumulator of quantized dot products
//
// Kernel sources must not call inline functions from outside this namespace (std:: templates,
// graph/quant/half.h) in the SIMD builds: a weak inline symbol compiled with -mavx2 could be
// picked by the linker for the scalar table. C library calls (expf, ...) are fine.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#else
#include "graph/quant/half.h"
#endif

#ifndef KILN_ISA_NS
#error "kernel sources are compiled with -DKILN_ISA_NS=<scalar|avx2|avx512>"
#endif

namespace kiln::cpu::KILN_ISA_NS {

// ---------------------------------------------------------------- f16 / bf16 scalars
inline float h2f(uint16_t h) {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    return kiln::f16_to_f32(h);
#endif
}

inline uint16_t f2h(float f) {
#if defined(__F16C__)
    return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
#else
    return kiln::f32_to_f16(f);
#endif
}

inline float bf2f(uint16_t b) {
    const uint32_t x = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
}

// Round to nearest even; NaN stays a quiet NaN (as graph/quant/half.h).
inline uint16_t f2bf(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
inline float fmaxf_(float a, float b) { return a > b ? a : b; }

// ---------------------------------------------------------------- exp constants
// fv_exp(x) = 2^n * e^r with n = round(x / ln2) and r = x - n*ln2 (|r| <= ln2/2), ln2 split in
// two so that n*kLn2Hi is exact; e^r = 1 + r + r^2 * q(r), q of degree 4 fitted (Chebyshev
// nodes) on [-ln2/2, ln2/2]: < 0.2 ulp from the polynomial, ~1 ulp in all (tests/cpu/exp_test.cpp).
// 2^n is added to the exponent bits of e^r. Above kExpHi the result is +inf; below kExpLo
// (e^x < FLT_MIN) it is 0, not a subnormal as expf gives; NaN stays NaN.
constexpr float kExpHi = 88.7228317f;       // largest x with a finite e^x in float
constexpr float kExpLo = -87.3365402f;      // smallest x with a normal e^x (>= FLT_MIN)
constexpr float kLog2e = 1.44269504f;
constexpr float kLn2Hi = 0.693145752f;      // 0x3f317200: few bits, so n * kLn2Hi is exact
constexpr float kLn2Lo = 1.42860677e-06f;   // ln2 - kLn2Hi
constexpr float kRound = 12582912.0f;       // 1.5 * 2^23: adding it rounds to an integer
constexpr float kExpC2 = 5.000000000e-01f, kExpC3 = 1.666657776e-01f, kExpC4 = 4.166655615e-02f,
                kExpC5 = 8.363173343e-03f, kExpC6 = 1.392617589e-03f;

// ---------------------------------------------------------------- float vectors
#if defined(__AVX512F__)
// The zero-masked forms (all lanes kept) sidestep GCC 12's -Wuninitialized false positive on
// the plain intrinsics (they pass _mm512_undefined_*()).
constexpr int kW = 16;
constexpr __mmask16 kAll = 0xffff;
using FV = __m512;
inline FV fv_zero() { return _mm512_setzero_ps(); }
inline FV fv_set(float x) { return _mm512_set1_ps(x); }
inline FV fv_load(const float* p) { return _mm512_loadu_ps(p); }
inline FV fv_load(const uint16_t* f16) {
    return _mm512_maskz_cvtph_ps(kAll, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f16)));
}
inline FV fv_load_bf16(const uint16_t* p) {
    const __m512i w = _mm512_maskz_cvtepu16_epi32(kAll, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, w, 16));
}
inline void fv_store(float* p, FV v) { _mm512_storeu_ps(p, v); }
inline void fv_store_f16(uint16_t* p, FV v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_maskz_cvtps_ph(kAll, v, _MM_FROUND_TO_NEAREST_INT));
}
inline FV fv_fma(FV a, FV b, FV c) { return _mm512_fmadd_ps(a, b, c); }
inline FV fv_add(FV a, FV b) { return _mm512_add_ps(a, b); }
inline FV fv_mul(FV a, FV b) { return _mm512_mul_ps(a, b); }
inline FV fv_max(FV a, FV b) { return _mm512_maskz_max_ps(kAll, a, b); }
inline FV fv_abs(FV a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
inline __m256 fv_half(FV a, int hi) {
    return _mm256_castpd_ps(hi ? _mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(a), 1)
                               : _mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(a), 0));
}
inline float fv_sum(FV a) {
    const __m256 h = _mm256_add_ps(fv_half(a, 0), fv_half(a, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float fv_hmax(FV a) {
    const __m256 h = _mm256_max_ps(fv_half(a, 0), fv_half(a, 1));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
// out[0..3] = the sums of a, b, c, d (one reduction for four dot products).
inline void fv_sum4(FV a, FV b, FV c, FV d, float* out) {
    // 128-bit blocks: ab = [a0+a2, a1+a3, b0+b2, b1+b3], then w = [a, b, c, d] as 4 partials each.
    const FV ab = fv_add(_mm512_maskz_shuffle_f32x4(kAll, a, b, 0x44), _mm512_maskz_shuffle_f32x4(kAll, a, b, 0xee));
    const FV cd = fv_add(_mm512_maskz_shuffle_f32x4(kAll, c, d, 0x44), _mm512_maskz_shuffle_f32x4(kAll, c, d, 0xee));
    const FV w = fv_add(_mm512_maskz_shuffle_f32x4(kAll, ab, cd, 0x88), _mm512_maskz_shuffle_f32x4(kAll, ab, cd, 0xdd));
    const __m128 lo = _mm_hadd_ps(_mm256_castps256_ps128(fv_half(w, 0)), _mm512_maskz_extractf32x4_ps(0xf, w, 1));
    const __m128 hi = _mm_hadd_ps(_mm512_maskz_extractf32x4_ps(0xf, w, 2), _mm512_maskz_extractf32x4_ps(0xf, w, 3));
    _mm_storeu_ps(out, _mm_hadd_ps(lo, hi));
}
// r[j] becomes column j of the kW x kW matrix whose rows were r[0..kW-1].
inline void fv_transpose(FV* r) {
    FV a[16], b[16];
    for (int p = 0; p < 8; ++p) {  // a[2p], a[2p+1]: rows 2p, 2p+1 interleaved per 128-bit lane
        a[2 * p] = _mm512_maskz_unpacklo_ps(kAll, r[2 * p], r[2 * p + 1]);
        a[2 * p + 1] = _mm512_maskz_unpackhi_ps(kAll, r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 4; ++q) {  // b[4q + c], 128-bit lane k: rows 4q..4q+3 at column 4k + c
        b[4 * q] = _mm512_maskz_shuffle_ps(kAll, a[4 * q], a[4 * q + 2], 0x44);
        b[4 * q + 1] = _mm512_maskz_shuffle_ps(kAll, a[4 * q], a[4 * q + 2], 0xee);
        b[4 * q + 2] = _mm512_maskz_shuffle_ps(kAll, a[4 * q + 1], a[4 * q + 3], 0x44);
        b[4 * q + 3] = _mm512_maskz_shuffle_ps(kAll, a[4 * q + 1], a[4 * q + 3], 0xee);
    }
    for (int c = 0; c < 4; ++c) {  // a 4 x 4 transpose of 128-bit lanes across b[c], b[4+c], ...
        const FV e0 = _mm512_maskz_shuffle_f32x4(kAll, b[c], b[4 + c], 0x44);
        const FV e1 = _mm512_maskz_shuffle_f32x4(kAll, b[c], b[4 + c], 0xee);
        const FV e2 = _mm512_maskz_shuffle_f32x4(kAll, b[8 + c], b[12 + c], 0x44);
        const FV e3 = _mm512_maskz_shuffle_f32x4(kAll, b[8 + c], b[12 + c], 0xee);
        r[c] = _mm512_maskz_shuffle_f32x4(kAll, e0, e2, 0x88);
        r[4 + c] = _mm512_maskz_shuffle_f32x4(kAll, e0, e2, 0xdd);
        r[8 + c] = _mm512_maskz_shuffle_f32x4(kAll, e1, e3, 0x88);
        r[12 + c] = _mm512_maskz_shuffle_f32x4(kAll, e1, e3, 0xdd);
    }
}
// out[i] = max(before, v[0..i-1]): the running maximum each lane sees before its own value.
inline FV fv_max_before(FV v, float before) {
    const __m512i ninf = _mm512_castps_si512(fv_set(-INFINITY));
    const auto up = [&](FV x, auto k) {  // lanes moved up by k, -inf shifted in
        return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(kAll, _mm512_castps_si512(x), ninf, 16 - decltype(k)::value));
    };
    FV x = v;  // becomes the inclusive running maximum
    x = _mm512_maskz_max_ps(kAll, x, up(x, std::integral_constant<int, 1>{}));
    x = _mm512_maskz_max_ps(kAll, x, up(x, std::integral_constant<int, 2>{}));
    x = _mm512_maskz_max_ps(kAll, x, up(x, std::integral_constant<int, 4>{}));
    x = _mm512_maskz_max_ps(kAll, x, up(x, std::integral_constant<int, 8>{}));
    return _mm512_maskz_max_ps(kAll, up(x, std::integral_constant<int, 1>{}), fv_set(before));
}
// a > b ? x : y per lane; flags[i] = a[i] > b[i].
inline FV fv_select_gt(FV a, FV b, FV x, FV y, bool* flags) {
    const __mmask16 m = _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(flags), _mm_maskz_set1_epi8(m, 1));
    return _mm512_mask_blend_ps(m, y, x);
}
// v rounded to f16 and back.
inline FV fv_round_f16(FV v) {
    return _mm512_maskz_cvtph_ps(kAll, _mm512_maskz_cvtps_ph(kAll, v, _MM_FROUND_TO_NEAREST_INT));
}
inline FV fv_sub(FV a, FV b) { return _mm512_sub_ps(a, b); }
inline FV fv_div(FV a, FV b) { return _mm512_div_ps(a, b); }
inline FV fv_min(FV a, FV b) { return _mm512_maskz_min_ps(kAll, a, b); }
// e^x per lane (see the exp constants above).
inline FV fv_exp(FV x) {
    // max/min return their second operand when one is NaN, so NaN passes through the clamp.
    const FV xc = fv_min(fv_set(kExpHi), fv_max(fv_set(kExpLo), x));
    const FV t = fv_fma(xc, fv_set(kLog2e), fv_set(kRound));  // kRound + n
    const FV n = fv_sub(t, fv_set(kRound));
    FV r = _mm512_fnmadd_ps(n, fv_set(kLn2Hi), xc);
    r = _mm512_fnmadd_ps(n, fv_set(kLn2Lo), r);
    FV q = fv_fma(fv_set(kExpC6), r, fv_set(kExpC5));
    q = fv_fma(q, r, fv_set(kExpC4));
    q = fv_fma(q, r, fv_set(kExpC3));
    q = fv_fma(q, r, fv_set(kExpC2));
    const FV p = fv_add(fv_fma(q, fv_mul(r, r), r), fv_set(1.0f));
    // t's low mantissa bits hold n (two's complement), so t << 23 is n in the exponent field.
    const __m512i e = _mm512_maskz_slli_epi32(kAll, _mm512_castps_si512(t), 23);
    FV y = _mm512_castsi512_ps(_mm512_maskz_add_epi32(kAll, _mm512_castps_si512(p), e));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, fv_set(kExpLo), _CMP_LT_OQ), y, fv_zero());
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, fv_set(kExpHi), _CMP_GT_OQ), y, fv_set(INFINITY));
}
#elif defined(__AVX2__)
constexpr int kW = 8;
using FV = __m256;
inline FV fv_zero() { return _mm256_setzero_ps(); }
inline FV fv_set(float x) { return _mm256_set1_ps(x); }
inline FV fv_load(const float* p) { return _mm256_loadu_ps(p); }
inline FV fv_load(const uint16_t* f16) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(f16))); }
inline FV fv_load_bf16(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline void fv_store(float* p, FV v) { _mm256_storeu_ps(p, v); }
inline void fv_store_f16(uint16_t* p, FV v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}
inline FV fv_fma(FV a, FV b, FV c) { return _mm256_fmadd_ps(a, b, c); }
inline FV fv_add(FV a, FV b) { return _mm256_add_ps(a, b); }
inline FV fv_mul(FV a, FV b) { return _mm256_mul_ps(a, b); }
inline FV fv_max(FV a, FV b) { return _mm256_max_ps(a, b); }
inline FV fv_abs(FV a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline float hsum128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float fv_sum(FV a) { return hsum128(_mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1))); }
inline float fv_hmax(FV a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline void fv_sum4(FV a, FV b, FV c, FV d, float* out) {
    const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
}
// r[j] becomes column j of the kW x kW matrix whose rows were r[0..kW-1].
inline void fv_transpose(FV* r) {
    FV a[8], b[8];
    for (int p = 0; p < 4; ++p) {
        a[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        a[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 2; ++q) {  // b[4q + c], 128-bit lane k: rows 4q..4q+3 at column 4k + c
        b[4 * q] = _mm256_shuffle_ps(a[4 * q], a[4 * q + 2], 0x44);
        b[4 * q + 1] = _mm256_shuffle_ps(a[4 * q], a[4 * q + 2], 0xee);
        b[4 * q + 2] = _mm256_shuffle_ps(a[4 * q + 1], a[4 * q + 3], 0x44);
        b[4 * q + 3] = _mm256_shuffle_ps(a[4 * q + 1], a[4 * q + 3], 0xee);
    }
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm256_permute2f128_ps(b[c], b[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(b[c], b[4 + c], 0x31);
    }
}
// out[i] = max(before, v[0..i-1]): the running maximum each lane sees before its own value.
inline FV fv_max_before(FV v, float before) {
    const FV ninf = fv_set(-INFINITY);
    FV x = v;  // becomes the inclusive running maximum
    x = _mm256_max_ps(x, _mm256_blend_ps(_mm256_permutevar8x32_ps(x, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6)), ninf, 0x01));
    x = _mm256_max_ps(x, _mm256_blend_ps(_mm256_permutevar8x32_ps(x, _mm256_setr_epi32(0, 0, 0, 1, 2, 3, 4, 5)), ninf, 0x03));
    x = _mm256_max_ps(x, _mm256_blend_ps(_mm256_permutevar8x32_ps(x, _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 2, 3)), ninf, 0x0f));
    const FV excl = _mm256_blend_ps(_mm256_permutevar8x32_ps(x, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6)), ninf, 0x01);
    return _mm256_max_ps(excl, fv_set(before));
}
// a > b ? x : y per lane; flags[i] = a[i] > b[i].
inline FV fv_select_gt(FV a, FV b, FV x, FV y, bool* flags) {
    const FV m = _mm256_cmp_ps(a, b, _CMP_GT_OQ);
    const int bits = _mm256_movemask_ps(m);
    for (int i = 0; i < kW; ++i) flags[i] = (bits >> i) & 1;
    return _mm256_blendv_ps(y, x, m);
}
inline FV fv_round_f16(FV v) { return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }
inline FV fv_sub(FV a, FV b) { return _mm256_sub_ps(a, b); }
inline FV fv_div(FV a, FV b) { return _mm256_div_ps(a, b); }
inline FV fv_min(FV a, FV b) { return _mm256_min_ps(a, b); }
// e^x per lane: as the AVX-512 version.
inline FV fv_exp(FV x) {
    const FV xc = fv_min(fv_set(kExpHi), fv_max(fv_set(kExpLo), x));
    const FV t = fv_fma(xc, fv_set(kLog2e), fv_set(kRound));
    const FV n = fv_sub(t, fv_set(kRound));
    FV r = _mm256_fnmadd_ps(n, fv_set(kLn2Hi), xc);
    r = _mm256_fnmadd_ps(n, fv_set(kLn2Lo), r);
    FV q = fv_fma(fv_set(kExpC6), r, fv_set(kExpC5));
    q = fv_fma(q, r, fv_set(kExpC4));
    q = fv_fma(q, r, fv_set(kExpC3));
    q = fv_fma(q, r, fv_set(kExpC2));
    const FV p = fv_add(fv_fma(q, fv_mul(r, r), r), fv_set(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(t), 23);
    FV y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
    y = _mm256_blendv_ps(y, fv_zero(), _mm256_cmp_ps(x, fv_set(kExpLo), _CMP_LT_OQ));
    return _mm256_blendv_ps(y, fv_set(INFINITY), _mm256_cmp_ps(x, fv_set(kExpHi), _CMP_GT_OQ));
}
#else
// Plain arrays: the compiler vectorises these loops with whatever the baseline target has.
constexpr int kW = 8;
struct FV {
    float v[kW];
};
inline FV fv_zero() { return FV{}; }
inline FV fv_set(float x) {
    FV r;
    for (int i = 0; i < kW; ++i) r.v[i] = x;
    return r;
}
inline FV fv_load(const float* p) {
    FV r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
}
inline FV fv_load(const uint16_t* f16) {
    FV r;
    for (int i = 0; i < kW; ++i) r.v[i] = h2f(f16[i]);
    return r;
}
inline FV fv_load_bf16(const uint16_t* p) {
    FV r;
    for (int i = 0; i < kW; ++i) r.v[i] = bf2f(p[i]);
    return r;
}
inline void fv_store(float* p, FV v) { std::memcpy(p, v.v, sizeof v.v); }
inline void fv_store_f16(uint16_t* p, FV v) {
    for (int i = 0; i < kW; ++i) p[i] = f2h(v.v[i]);
}
inline FV fv_fma(FV a, FV b, FV c) {
    for (int i = 0; i < kW; ++i) c.v[i] += a.v[i] * b.v[i];
    return c;
}
inline FV fv_add(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] += b.v[i];
    return a;
}
inline FV fv_mul(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] *= b.v[i];
    return a;
}
inline FV fv_max(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    return a;
}
inline FV fv_abs(FV a) {
    for (int i = 0; i < kW; ++i) a.v[i] = a.v[i] < 0 ? -a.v[i] : a.v[i];
    return a;
}
inline float fv_sum(FV a) {
    float s = 0;
    for (int i = 0; i < kW; ++i) s += a.v[i];
    return s;
}
inline float fv_hmax(FV a) {
    float m = a.v[0];
    for (int i = 1; i < kW; ++i) m = a.v[i] > m ? a.v[i] : m;
    return m;
}
inline void fv_sum4(FV a, FV b, FV c, FV d, float* out) {
    out[0] = fv_sum(a), out[1] = fv_sum(b), out[2] = fv_sum(c), out[3] = fv_sum(d);
}
// r[j] becomes column j of the kW x kW matrix whose rows were r[0..kW-1].
inline void fv_transpose(FV* r) {
    for (int i = 0; i < kW; ++i) {
        for (int j = i + 1; j < kW; ++j) {
            const float t = r[i].v[j];
            r[i].v[j] = r[j].v[i];
            r[j].v[i] = t;
        }
    }
}
// out[i] = max(before, v[0..i-1]): the running maximum each lane sees before its own value.
inline FV fv_max_before(FV v, float before) {
    FV out;
    for (int i = 0; i < kW; ++i) {
        out.v[i] = before;
        before = v.v[i] > before ? v.v[i] : before;
    }
    return out;
}
// a > b ? x : y per lane; flags[i] = a[i] > b[i].
inline FV fv_select_gt(FV a, FV b, FV x, FV y, bool* flags) {
    for (int i = 0; i < kW; ++i) {
        flags[i] = a.v[i] > b.v[i];
        y.v[i] = flags[i] ? x.v[i] : y.v[i];
    }
    return y;
}
inline FV fv_round_f16(FV v) {
    for (int i = 0; i < kW; ++i) v.v[i] = h2f(f2h(v.v[i]));
    return v;
}
inline FV fv_sub(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] -= b.v[i];
    return a;
}
inline FV fv_div(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] /= b.v[i];
    return a;
}
inline FV fv_min(FV a, FV b) {
    for (int i = 0; i < kW; ++i) a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
    return a;
}
inline FV fv_exp(FV x) {
    for (int i = 0; i < kW; ++i) x.v[i] = expf(x.v[i]);
    return x;
}
#endif

// ---------------------------------------------------------------- 32-byte integer codes
// AVX-512 builds use the 256-bit forms too (with AVX-512BW/VL where it saves instructions).
#if defined(__AVX2__)
struct B32 {
    __m256i v;
};
using I32v = __m256i;
using QAcc = __m256;

inline B32 b32_load(const void* p) { return {_mm256_loadu_si256(static_cast<const __m256i*>(p))}; }
// 16 packed bytes -> low nibbles as bytes 0..15, high nibbles as bytes 16..31.
inline B32 b32_nibbles(const uint8_t* p16) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p16));
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
    return {_mm256_and_si256(v, _mm256_set1_epi8(15))};
}
inline B32 b32_and(B32 a, uint8_t m) { return {_mm256_and_si256(a.v, _mm256_set1_epi8(static_cast<char>(m)))}; }
// (a >> s) & m per byte.
inline B32 b32_shr_and(B32 a, int s, uint8_t m) {
    return {_mm256_and_si256(_mm256_srl_epi16(a.v, _mm_cvtsi32_si128(s)), _mm256_set1_epi8(static_cast<char>(m)))};
}
// a << s per byte; only for values that stay below 256.
inline B32 b32_shl(B32 a, int s) { return {_mm256_sll_epi16(a.v, _mm_cvtsi32_si128(s))}; }
inline B32 b32_or(B32 a, B32 b) { return {_mm256_or_si256(a.v, b.v)}; }
// Byte j = `val` where bit j of `bits` is set, else 0.
inline B32 b32_bits(uint32_t bits, uint8_t val) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    return {_mm256_maskz_set1_epi8(static_cast<__mmask32>(bits), static_cast<char>(val))};
#else
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i sel = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
    return {_mm256_and_si256(v, _mm256_set1_epi8(static_cast<char>(val)))};
#endif
}
// Byte j = table[idx[j]] (idx < 16).
inline B32 b32_lookup16(B32 idx, const int8_t* table) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(table));
    return {_mm256_shuffle_epi8(_mm256_set_m128i(t, t), idx.v)};
}
inline I32v i32_zero() { return _mm256_setzero_si256(); }
inline I32v i32_add(I32v a, I32v b) { return _mm256_add_epi32(a, b); }
// sum u[j] * s[j] with u unsigned < 128 and s signed; bytes 0..15 weighted by a, 16..31 by b.
inline I32v dot_us(B32 u, B32 s, int16_t a = 1, int16_t b = 1) {
    const __m256i p = _mm256_maddubs_epi16(u.v, s.v);
    return _mm256_madd_epi16(p, _mm256_set_m128i(_mm_set1_epi16(b), _mm_set1_epi16(a)));
}
// sum a[j] * b[j], both signed in [-127, 127].
inline I32v dot_ss(B32 a, B32 b) {
    const __m256i ua = _mm256_sign_epi8(a.v, a.v);
    const __m256i sb = _mm256_sign_epi8(b.v, a.v);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ua, sb), _mm256_set1_epi16(1));
}
inline QAcc qacc_zero() { return _mm256_setzero_ps(); }
inline QAcc qacc_fma(QAcc acc, I32v p, float d) { return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d), acc); }
// acc + d * sum over 16 lanes of a[g] * b[g] (int16).
inline QAcc qacc_fma_i16(QAcc acc, const int16_t* a, const int16_t* b, float d) {
    const __m256i p = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d), acc);
}
inline float qacc_sum(QAcc a) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    return _mm_cvtss_f32(t);
}
#else
struct B32 {
    uint8_t b[32];
};
using I32v = int32_t;
using QAcc = float;

inline B32 b32_load(const void* p) {
    B32 r;
    std::memcpy(r.b, p, 32);
    return r;
}
inline B32 b32_nibbles(const uint8_t* p16) {
    B32 r;
    for (int j = 0; j < 16; ++j) {
        r.b[j] = p16[j] & 15;
        r.b[j + 16] = p16[j] >> 4;
    }
    return r;
}
inline B32 b32_and(B32 a, uint8_t m) {
    for (auto& x : a.b) x &= m;
    return a;
}
inline B32 b32_shr_and(B32 a, int s, uint8_t m) {
    for (auto& x : a.b) x = static_cast<uint8_t>((x >> s) & m);
    return a;
}
inline B32 b32_shl(B32 a, int s) {
    for (auto& x : a.b) x = static_cast<uint8_t>(x << s);
    return a;
}
inline B32 b32_or(B32 a, B32 b) {
    for (int j = 0; j < 32; ++j) a.b[j] |= b.b[j];
    return a;
}
inline B32 b32_bits(uint32_t bits, uint8_t val) {
    B32 r;
    for (int j = 0; j < 32; ++j) r.b[j] = ((bits >> j) & 1) ? val : 0;
    return r;
}
inline B32 b32_lookup16(B32 idx, const int8_t* table) {
    for (auto& x : idx.b) x = static_cast<uint8_t>(table[x & 15]);
    return idx;
}
inline I32v i32_zero() { return 0; }
inline I32v i32_add(I32v a, I32v b) { return a + b; }
inline I32v dot_us(B32 u, B32 s, int16_t a = 1, int16_t b = 1) {
    int32_t lo = 0, hi = 0;
    for (int j = 0; j < 16; ++j) lo += u.b[j] * static_cast<int8_t>(s.b[j]);
    for (int j = 16; j < 32; ++j) hi += u.b[j] * static_cast<int8_t>(s.b[j]);
    return lo * a + hi * b;
}
inline I32v dot_ss(B32 a, B32 b) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += static_cast<int8_t>(a.b[j]) * static_cast<int8_t>(b.b[j]);
    return s;
}
inline QAcc qacc_zero() { return 0.0f; }
inline QAcc qacc_fma(QAcc acc, I32v p, float d) { return acc + static_cast<float>(p) * d; }
inline QAcc qacc_fma_i16(QAcc acc, const int16_t* a, const int16_t* b, float d) {
    int32_t s = 0;
    for (int g = 0; g < 16; ++g) s += a[g] * b[g];
    return acc + static_cast<float>(s) * d;
}
inline float qacc_sum(QAcc a) { return a; }
#endif

}  // namespace kiln::cpu::KILN_ISA_NS
