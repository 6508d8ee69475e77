#pragma once
// The only ISA-specific code of the CPU kernels: a handful of primitives, each written once per
// instruction set in #if blocks. Every kernel source is compiled three times (scalar, AVX2,
// AVX-512; see ../CMakeLists.txt) into namespace kiln::cpu::KILN_ISA_NS, so these inline
// functions are distinct symbols per ISA and never mix.
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
