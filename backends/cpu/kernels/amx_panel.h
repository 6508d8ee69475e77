#pragma once
// Weight panels for the AMX matmul (amx_matmul.cpp): 32 weight rows of a run of k, decoded to
// signed int8 in the layout an AMX B tile loads, cut into units of U elements that share one
// scale per row: a 32-element block (U = 32), a Q4_K / Q5_K sub-block (32) or a Q6_K
// sub-block (16).
//
// A B tile of `tdpbssd` is U/4 rows of 16 dwords: dword n of tile row r holds elements
// 4r..4r+3 of the unit in weight row n. A unit of the panel is 32 x U bytes: rows 0..15, then
// rows 16..31. Weight rows past the matrix are zeros (their outputs are not stored).
//
// Panels are decoded per call from the weights as they are stored (no second copy of the model
// in memory); each one serves every 32-token pass of the batch.
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/kernels/amx_tiles.h"
#include "backends/cpu/kernels/quant_dot.h"

namespace kiln::cpu::KILN_ISA_NS {

constexpr int kAmxPanelElems = 2048;     // elements of k per panel chunk: most matmuls in one
constexpr int kAmxMaxUnits = kAmxPanelElems / 16;

struct AmxPanel {
    alignas(64) int8_t q[kAmxPanelElems * kAmxRows];
    alignas(64) float d[kAmxMaxUnits * kAmxRows];       // d[unit * 32 + row]: the unit's scale
    alignas(64) float m[kAmxPanelElems / 32 * kAmxRows];  // per 32-element unit: Q4_1 / Q5_1 min, K-quant -dmin * min
};

// One block decoded: its codes (element e in byte e), per unit its scale and, where the type
// has them, per 32 elements its min (value = scale * code + min for Q4_1 / Q5_1; for Q4_K /
// Q5_K the min multiplies the activations' sum instead: value = scale * code + min).
template <int Elems, int Units>
struct AmxDecoded {
    alignas(32) int8_t q[Elems];
    float d[Units];
    float m[Elems / 32];
};

inline __m256i nibbles32(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)), m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}
// Bit j of qh as 16 in byte j.
inline __m256i high_bits32(const uint8_t* qh) { return _mm256_maskz_mov_epi8(load_u32(qh), _mm256_set1_epi8(16)); }
inline void store32(int8_t* p, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
inline __m256i load32(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Per weight type: Block, its elements, the unit size U, units per block, the activation block
// (BlockQ8A for the 32-element types, BlockQ8_K for the K-quants), whether units have mins, and
// decode().
template <typename B>
struct AmxType;

template <typename B, bool Affine>
struct AmxLegacy {
    using Block = B;
    using Act = BlockQ8A;
    static constexpr int kElems = kQK, kUnit = 32, kUnits = 1;
    static constexpr bool kMins = Affine;
    using Decoded = AmxDecoded<kQK, 1>;
};

template <>
struct AmxType<BlockQ4_0> : AmxLegacy<BlockQ4_0, false> {
    static void decode(const BlockQ4_0& b, Decoded& o) {
        store32(o.q, _mm256_sub_epi8(nibbles32(b.qs), _mm256_set1_epi8(8)));
        o.d[0] = h2f(b.d);
    }
};
template <>
struct AmxType<BlockQ4_1> : AmxLegacy<BlockQ4_1, true> {
    static void decode(const BlockQ4_1& b, Decoded& o) {
        store32(o.q, nibbles32(b.qs));
        o.d[0] = h2f(b.d), o.m[0] = h2f(b.m);
    }
};
template <>
struct AmxType<BlockQ5_0> : AmxLegacy<BlockQ5_0, false> {
    static void decode(const BlockQ5_0& b, Decoded& o) {
        store32(o.q, _mm256_sub_epi8(_mm256_or_si256(nibbles32(b.qs), high_bits32(b.qh)), _mm256_set1_epi8(16)));
        o.d[0] = h2f(b.d);
    }
};
template <>
struct AmxType<BlockQ5_1> : AmxLegacy<BlockQ5_1, true> {
    static void decode(const BlockQ5_1& b, Decoded& o) {
        store32(o.q, _mm256_or_si256(nibbles32(b.qs), high_bits32(b.qh)));
        o.d[0] = h2f(b.d), o.m[0] = h2f(b.m);
    }
};
template <>
struct AmxType<BlockQ8_0> : AmxLegacy<BlockQ8_0, false> {
    static void decode(const BlockQ8_0& b, Decoded& o) {
        store32(o.q, load32(reinterpret_cast<const uint8_t*>(b.qs)));
        o.d[0] = h2f(b.d);
    }
};
template <>
struct AmxType<BlockIQ4_NL> : AmxLegacy<BlockIQ4_NL, false> {
    static void decode(const BlockIQ4_NL& b, Decoded& o) {
        const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues));
        store32(o.q, _mm256_shuffle_epi8(_mm256_set_m128i(t, t), nibbles32(b.qs)));
        o.d[0] = h2f(b.d);
    }
};

// Q4_K / Q5_K: eight sub-blocks of 32, each with a 6-bit scale and min (scale_min_k4).
template <typename B>
struct AmxK4 {
    using Block = B;
    using Act = BlockQ8_K;
    static constexpr int kElems = kQK_K, kUnit = 32, kUnits = 8;
    static constexpr bool kMins = true;
    using Decoded = AmxDecoded<kQK_K, 8>;
    static void scales(const B& b, Decoded& o) {
        const float d = h2f(b.d), dmin = h2f(b.dmin);
        for (int s = 0; s < 8; ++s) {
            int16_t sc = 0, mn = 0;
            scale_min_k4(s, b.scales, &sc, &mn);
            o.d[s] = d * static_cast<float>(sc), o.m[s] = -dmin * static_cast<float>(mn);
        }
    }
};
template <>
struct AmxType<BlockQ4_K> : AmxK4<BlockQ4_K> {
    static void decode(const BlockQ4_K& b, Decoded& o) {
        const __m256i m = _mm256_set1_epi8(15);
        for (int c = 0; c < 4; ++c) {  // bytes 32c.. hold sub-block 2c (low nibbles) and 2c + 1
            const __m256i q = load32(b.qs + 32 * c);
            store32(o.q + 64 * c, _mm256_and_si256(q, m));
            store32(o.q + 64 * c + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), m));
        }
        scales(b, o);
    }
};
template <>
struct AmxType<BlockQ5_K> : AmxK4<BlockQ5_K> {
    static void decode(const BlockQ5_K& b, Decoded& o) {
        const __m256i m = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
        const __m256i qh = load32(b.qh);
        for (int c = 0; c < 4; ++c) {  // bit s of qh[l] is bit 4 of sub-block s's element l
            const __m256i q = load32(b.qs + 32 * c);
            const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
            const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
            store32(o.q + 64 * c, _mm256_or_si256(_mm256_and_si256(q, m), _mm256_slli_epi16(h0, 4)));
            store32(o.q + 64 * c + 32,
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m), _mm256_slli_epi16(h1, 4)));
        }
        scales(b, o);
    }
};
// Q6_K: sixteen sub-blocks of 16 with int8 scales; codes q - 32.
template <>
struct AmxType<BlockQ6_K> {
    using Block = BlockQ6_K;
    using Act = BlockQ8_K;
    static constexpr int kElems = kQK_K, kUnit = 16, kUnits = 16;
    static constexpr bool kMins = false;
    using Decoded = AmxDecoded<kQK_K, 16>;
    static void decode(const BlockQ6_K& b, Decoded& o) {
        const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
        for (int h = 0; h < 2; ++h) {  // 128 elements from ql[64h..], qh[32h..]
            const __m256i l0 = load32(b.ql + 64 * h), l1 = load32(b.ql + 64 * h + 32), qh = load32(b.qh + 32 * h);
            const auto high = [&](int shift) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4); };
            int8_t* q = o.q + 128 * h;
            store32(q, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l0, m4), high(0)), off));
            store32(q + 32, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l1, m4), high(2)), off));
            store32(q + 64, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), high(4)), off));
            store32(q + 96, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), high(6)), off));
        }
        const float d = h2f(b.d);
        for (int s = 0; s < 16; ++s) o.d[s] = d * static_cast<float>(b.scales[s]);
    }
};

// Decodes rows [0, nr) (nr <= 32; the rest zeros) x blocks [j0, j0 + nb) of the weights at `w`
// (rows `wstride` bytes apart) into `p`. Per block and 16 rows, the rows' codes go to a buffer
// (row n at n * Elems bytes) and one gather per tile row picks its dword of each row.
template <typename T>
void amx_fill_panel(const uint8_t* w, uint64_t wstride, int nr, int64_t j0, int nb, AmxPanel& p) {
    using Block = typename T::Block;
    constexpr int kTileRows = T::kUnit / 4, kUnitBytes = kAmxRows * T::kUnit;
    alignas(64) typename T::Decoded rows[16];
    const __m512i by_row = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                              _mm512_set1_epi32(sizeof(typename T::Decoded) / 4));
    for (int half = 0; half < 2; ++half) {
        const Block* row[16];
        for (int n = 0; n < 16; ++n) {
            const int r = 16 * half + n;
            row[n] = r < nr ? reinterpret_cast<const Block*>(w + static_cast<uint64_t>(r) * wstride) + j0 : nullptr;
        }
        for (int j = 0; j < nb; ++j) {
            for (int n = 0; n < 16; ++n) {
                if (row[n]) T::decode(row[n][j], rows[n]);
                else std::memset(&rows[n], 0, sizeof rows[n]);
            }
            for (int u = 0; u < T::kUnits; ++u) {
                const int unit = j * T::kUnits + u;
                int8_t* t = p.q + unit * kUnitBytes + half * (kUnitBytes / 2);
                #pragma GCC unroll 8
                for (int r = 0; r < kTileRows; ++r) {
                    const __m512i idx = _mm512_add_epi32(by_row, _mm512_set1_epi32(u * kTileRows + r));
                    _mm512_store_si512(t + 64 * r, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), kAll, idx, rows, 4));
                }
                for (int n = 0; n < 16; ++n) p.d[unit * kAmxRows + 16 * half + n] = rows[n].d[u];
            }
            if constexpr (T::kMins) {
                for (int s = 0; s < T::kElems / 32; ++s) {
                    for (int n = 0; n < 16; ++n) p.m[(j * (T::kElems / 32) + s) * kAmxRows + 16 * half + n] = rows[n].m[s];
                }
            }
        }
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
