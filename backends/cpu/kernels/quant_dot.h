#pragma once
// Integer dot products of one quantized weight row with NC (1..4) quantized activation
// columns. The weight block is decoded into 32-byte code vectors once and reused for every
// column, which is what makes the batched (prompt) matmul cheaper per column than a matvec.
// Codes are kept unsigned where the format allows (q in [0, 63]) and the offset or minimum is
// applied once per block through the activation sums (BlockQ8A::ds, BlockQ8_K::bsums).
#include "backends/cpu/kernels/common.h"
#include "graph/quant/blocks.h"

namespace kiln::cpu::KILN_ISA_NS {

// ---------------------------------------------------------------- activation quantizers
// round-to-nearest-even via the 1.5 * 2^23 trick (vectorises; |v| <= 127 here).
inline int32_t round_i(float v) {
    const float t = v + 12582912.0f;
    int32_t i;
    std::memcpy(&i, &t, 4);
    return i - 0x4B400000;
}

inline float absmax(const float* x, int n) {
    FV m = fv_zero();
    for (int i = 0; i < n; i += kW) m = fv_max(m, fv_abs(fv_load(x + i)));
    return fv_hmax(m);
}

// Rounds as ggml's Q8_0 / Q8_1 activation blocks do, so products match llama.cpp's: the codes
// use the exact scale, but the scale multiplied in is rounded to f16; with `q8_1_sums` (the
// activations of Q4_1 / Q5_1 weights) the block sum d * sum(q) is rounded to f16 as well.
inline void quantize_act_q8a(const float* x, BlockQ8A* y, int64_t nb, bool q8_1_sums) {
    for (int64_t b = 0; b < nb; ++b, x += kQK) {
        const float amax = absmax(x, kQK);
        const float d = amax / 127.0f;
        const float id = amax > 0 ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < kQK; ++j) {
            const int32_t q = round_i(x[j] * id);
            y[b].qs[j] = static_cast<int8_t>(q);
            sum += q;
        }
        y[b].d = h2f(f2h(d));
        y[b].ds = q8_1_sums ? h2f(f2h(d * static_cast<float>(sum))) : y[b].d * static_cast<float>(sum);
    }
}

// One block into slot `slot` of a quad (scratch.h BlockQ8A4, the block-quad tiles' order).
inline void quantize_act_q8a_quad(const float* x, BlockQ8A4* y, int slot, bool q8_1_sums) {
    BlockQ8A b;
    quantize_act_q8a(x, &b, 1, q8_1_sums);
    y->d[slot] = b.d;
    y->ds[slot] = b.ds;
    for (int j = 0; j < kQK / 2; ++j) y->qs[16 * slot + j] = b.qs[j], y->qs[64 + 16 * slot + j] = b.qs[16 + j];
}

// `interleaved` (the K-quant tiles, kquant_tile.h): element 16k + 4t + j of a block is stored at
// 64t + 4k + j, so each 64-byte step holds four codes of each of the 16 groups.
inline void quantize_act_q8k(const float* x, BlockQ8_K* y, int64_t nb, bool interleaved = false) {
    for (int64_t b = 0; b < nb; ++b, x += kQK_K) {
        const float amax = absmax(x, kQK_K);
        const float id = amax > 0 ? 127.0f / amax : 0.0f;
        y[b].d = amax / 127.0f;
        int8_t q[kQK_K];
        for (int j = 0; j < kQK_K; ++j) q[j] = static_cast<int8_t>(round_i(x[j] * id));
        for (int g = 0; g < kQK_K / 16; ++g) {
            int32_t s = 0;
            for (int j = 0; j < 16; ++j) s += q[16 * g + j];
            y[b].bsums[g] = static_cast<int16_t>(s);
        }
        if (!interleaved) {
            std::memcpy(y[b].qs, q, kQK_K);
            continue;
        }
        for (int k = 0; k < 16; ++k) {
            for (int t = 0; t < 4; ++t) std::memcpy(y[b].qs + 64 * t + 4 * k, q + 16 * k + 4 * t, 4);
        }
    }
}

// ---------------------------------------------------------------- legacy 32-element blocks
// out[c] = sum over the row of w * x[c]. `x[c]` points at column c's first block. U blocks are
// in flight per column with their own accumulators: one accumulator would serialise every block
// on the FMA latency, which is what bounds a matvec of these small blocks.
template <typename Block, int NC, auto decode>
inline void dot_legacy(const void* vw, int64_t nb, const BlockQ8A* const* x, float* out) {
    constexpr int U = NC == 1 ? 4 : NC == 2 ? 2 : 1;
    const auto* w = static_cast<const Block*>(vw);
    QAcc acc[NC][U];
    float corr[NC][U];
    for (int c = 0; c < NC; ++c)
        for (int u = 0; u < U; ++u) acc[c][u] = qacc_zero(), corr[c][u] = 0.0f;
    const auto step = [&](int64_t i, int u) {
        float d, m;
        bool is_signed;
        const B32 q = decode(w[i], &d, &m, &is_signed);
        for (int c = 0; c < NC; ++c) {
            const BlockQ8A& b = x[c][i];
            const B32 xq = b32_load(b.qs);
            const I32v p = is_signed ? dot_ss(q, xq) : dot_us(q, xq);
            acc[c][u] = qacc_fma(acc[c][u], p, d * b.d);
            corr[c][u] += m * b.ds;
        }
    };
    int64_t i = 0;
    for (; i + U <= nb; i += U) {
        prefetch_weights<U * sizeof(Block), wide_weights(sizeof(Block), kQK)>(w + i);
        for (int u = 0; u < U; ++u) step(i + u, u);
    }
    for (; i < nb; ++i) step(i, 0);
    for (int c = 0; c < NC; ++c) {
        float s = 0.0f;
        for (int u = 0; u < U; ++u) s += qacc_sum(acc[c][u]) + corr[c][u];
        out[c] = s;
    }
}

// Each decoder returns the codes, the scale d and the per-block term m such that
// block . x = d * dx * (codes . xq) + m * dx * sum(xq).
inline B32 decode_q4_0(const BlockQ4_0& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = -8.0f * *d, *s = false;
    return b32_nibbles(b.qs);
}
inline B32 decode_q4_1(const BlockQ4_1& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = h2f(b.m), *s = false;
    return b32_nibbles(b.qs);
}
inline uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline B32 decode_q5_0(const BlockQ5_0& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = -16.0f * *d, *s = false;
    return b32_or(b32_nibbles(b.qs), b32_bits(load_u32(b.qh), 16));
}
inline B32 decode_q5_1(const BlockQ5_1& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = h2f(b.m), *s = false;
    return b32_or(b32_nibbles(b.qs), b32_bits(load_u32(b.qh), 16));
}
inline B32 decode_q8_0(const BlockQ8_0& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = 0.0f, *s = true;
    return b32_load(b.qs);
}
inline B32 decode_iq4_nl(const BlockIQ4_NL& b, float* d, float* m, bool* s) {
    *d = h2f(b.d), *m = 0.0f, *s = true;
    return b32_lookup16(b32_nibbles(b.qs), kIQ4NLValues);
}

template <int NC> void dot_q4_0(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockQ4_0, NC, decode_q4_0>(w, nb, x, o); }
template <int NC> void dot_q4_1(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockQ4_1, NC, decode_q4_1>(w, nb, x, o); }
template <int NC> void dot_q5_0(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockQ5_0, NC, decode_q5_0>(w, nb, x, o); }
template <int NC> void dot_q5_1(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockQ5_1, NC, decode_q5_1>(w, nb, x, o); }
template <int NC> void dot_q8_0(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockQ8_0, NC, decode_q8_0>(w, nb, x, o); }
template <int NC> void dot_iq4_nl(const void* w, int64_t nb, const BlockQ8A* const* x, float* o) { dot_legacy<BlockIQ4_NL, NC, decode_iq4_nl>(w, nb, x, o); }

// ---------------------------------------------------------------- K-quants (256-element blocks)
// Q4_K/Q5_K 6-bit scale and min of sub-block j (format in graph/quant/blocks.h).
inline void scale_min_k4(int j, const uint8_t* s, int16_t* sc, int16_t* mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = static_cast<int16_t>((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
        *mn = static_cast<int16_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

// Shared loop: `decode(block, codes[8], scales[16], &d, &dmin, mins[16])` fills eight 32-byte
// code vectors (elements 32v..32v+31), the sub-block scales weighting their two 16-byte halves
// (scales[2v], scales[2v+1]), and per 16-element group the value multiplying dmin * bsum.
template <typename Block, int NC, auto decode>
inline void dot_kquant(const void* vw, int64_t nb, const BlockQ8_K* const* x, float* out) {
    const auto* w = static_cast<const Block*>(vw);
    QAcc acc[NC], corr[NC];
    float corr1 = 0.0f;
    for (int c = 0; c < NC; ++c) acc[c] = qacc_zero(), corr[c] = qacc_zero();
    for (int64_t i = 0; i < nb; ++i) {
        prefetch_weights<sizeof(Block), true>(w + i);
        B32 q[8];
        alignas(32) int16_t sc[16], mins[16];
        float d, dmin;
        decode(w[i], q, sc, mins, &d, &dmin);
        for (int c = 0; c < NC; ++c) {
            const BlockQ8_K& b = x[c][i];
            I32v s = i32_zero();
            for (int v = 0; v < 8; ++v) s = i32_add(s, dot_us(q[v], b32_load(b.qs + 32 * v), sc[2 * v], sc[2 * v + 1]));
            acc[c] = qacc_fma(acc[c], s, d * b.d);
            // Several columns: one vector multiply-add per block. One column: the vector load of
            // the just-stored mins measured slower (store forwarding) than the scalar sum.
            if constexpr (NC > 1) {
                corr[c] = qacc_fma_i16(corr[c], mins, b.bsums, dmin * b.d);
            } else {
                int32_t ms = 0;
                for (int g = 0; g < 16; ++g) ms += mins[g] * b.bsums[g];
                corr1 += dmin * b.d * static_cast<float>(ms);
            }
        }
    }
    for (int c = 0; c < NC; ++c) out[c] = qacc_sum(acc[c]) - qacc_sum(corr[c]) - corr1;
}

inline void decode_q2_k(const BlockQ2_K& b, B32* q, int16_t* sc, int16_t* mins, float* d, float* dmin) {
    *d = h2f(b.d), *dmin = h2f(b.dmin);
    for (int h = 0; h < 2; ++h) {
        const B32 raw = b32_load(b.qs + 32 * h);
        for (int k = 0; k < 4; ++k) q[4 * h + k] = b32_shr_and(raw, 2 * k, 3);
    }
    for (int s = 0; s < 16; ++s) sc[s] = b.scales[s] & 15, mins[s] = b.scales[s] >> 4;
}

// Q3_K: codes c = low2 | hbit << 2 in [0, 7]; value = c - 4, so the "min" is 4 * scale.
inline void decode_q3_k(const BlockQ3_K& b, B32* q, int16_t* sc, int16_t* mins, float* d, float* dmin) {
    *d = h2f(b.d), *dmin = *d;
    const B32 hm = b32_load(b.hmask);
    for (int h = 0; h < 2; ++h) {
        const B32 raw = b32_load(b.qs + 32 * h);
        for (int k = 0; k < 4; ++k) {
            q[4 * h + k] = b32_or(b32_shr_and(raw, 2 * k, 3), b32_shl(b32_shr_and(hm, 4 * h + k, 1), 2));
        }
    }
    const uint8_t* s = b.scales;
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
        const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = static_cast<int16_t>((low | (high << 4)) - 32);
        mins[j] = static_cast<int16_t>(4 * sc[j]);
    }
}

inline void decode_q4_k(const BlockQ4_K& b, B32* q, int16_t* sc, int16_t* mins, float* d, float* dmin) {
    *d = h2f(b.d), *dmin = h2f(b.dmin);
    for (int c = 0; c < 4; ++c) {
        const B32 raw = b32_load(b.qs + 32 * c);
        q[2 * c] = b32_and(raw, 15);
        q[2 * c + 1] = b32_shr_and(raw, 4, 15);
    }
    for (int j = 0; j < 8; ++j) {
        int16_t s, m;
        scale_min_k4(j, b.scales, &s, &m);
        sc[2 * j] = sc[2 * j + 1] = s;
        mins[2 * j] = mins[2 * j + 1] = m;
    }
}

inline void decode_q5_k(const BlockQ5_K& b, B32* q, int16_t* sc, int16_t* mins, float* d, float* dmin) {
    *d = h2f(b.d), *dmin = h2f(b.dmin);
    const B32 qh = b32_load(b.qh);
    for (int c = 0; c < 4; ++c) {
        const B32 raw = b32_load(b.qs + 32 * c);
        q[2 * c] = b32_or(b32_and(raw, 15), b32_shl(b32_shr_and(qh, 2 * c, 1), 4));
        q[2 * c + 1] = b32_or(b32_shr_and(raw, 4, 15), b32_shl(b32_shr_and(qh, 2 * c + 1, 1), 4));
    }
    for (int j = 0; j < 8; ++j) {
        int16_t s, m;
        scale_min_k4(j, b.scales, &s, &m);
        sc[2 * j] = sc[2 * j + 1] = s;
        mins[2 * j] = mins[2 * j + 1] = m;
    }
}

// Q6_K: codes in [0, 63], value = code - 32, so the "min" is 32 * scale.
inline void decode_q6_k(const BlockQ6_K& b, B32* q, int16_t* sc, int16_t* mins, float* d, float* dmin) {
    *d = h2f(b.d), *dmin = *d;
    for (int h = 0; h < 2; ++h) {
        const B32 l0 = b32_load(b.ql + 64 * h), l1 = b32_load(b.ql + 64 * h + 32), hb = b32_load(b.qh + 32 * h);
        q[4 * h + 0] = b32_or(b32_and(l0, 15), b32_shl(b32_shr_and(hb, 0, 3), 4));
        q[4 * h + 1] = b32_or(b32_and(l1, 15), b32_shl(b32_shr_and(hb, 2, 3), 4));
        q[4 * h + 2] = b32_or(b32_shr_and(l0, 4, 15), b32_shl(b32_shr_and(hb, 4, 3), 4));
        q[4 * h + 3] = b32_or(b32_shr_and(l1, 4, 15), b32_shl(b32_shr_and(hb, 6, 3), 4));
    }
    for (int j = 0; j < 16; ++j) sc[j] = b.scales[j], mins[j] = static_cast<int16_t>(32 * b.scales[j]);
}

template <int NC> void dot_q2_k(const void* w, int64_t nb, const BlockQ8_K* const* x, float* o) { dot_kquant<BlockQ2_K, NC, decode_q2_k>(w, nb, x, o); }
template <int NC> void dot_q3_k(const void* w, int64_t nb, const BlockQ8_K* const* x, float* o) { dot_kquant<BlockQ3_K, NC, decode_q3_k>(w, nb, x, o); }
template <int NC> void dot_q4_k(const void* w, int64_t nb, const BlockQ8_K* const* x, float* o) { dot_kquant<BlockQ4_K, NC, decode_q4_k>(w, nb, x, o); }
template <int NC> void dot_q5_k(const void* w, int64_t nb, const BlockQ8_K* const* x, float* o) { dot_kquant<BlockQ5_K, NC, decode_q5_k>(w, nb, x, o); }
template <int NC> void dot_q6_k(const void* w, int64_t nb, const BlockQ8_K* const* x, float* o) { dot_kquant<BlockQ6_K, NC, decode_q6_k>(w, nb, x, o); }

}  // namespace kiln::cpu::KILN_ISA_NS
