#pragma once
// Weight panels for the AMX matmul (amx_matmul.cpp): 32 weight rows of a run of 32-element
// blocks, decoded to signed int8 in the layout an AMX B tile loads, with one f32 scale (and, for
// Q4_1 / Q5_1, one f32 min) per row and block.
//
// A B tile of `tdpbssd` is K/4 rows of 16 dwords: dword n of tile row r holds elements 4r..4r+3
// of weight row n. For one 32-element block that is 8 rows x 64 bytes = 512 bytes per 16 weight
// rows, so a block of the panel is 1 KiB: rows 0..15, then rows 16..31. Weight rows past the
// matrix are zeros (their outputs are not stored).
//
// Panels are decoded per call from the weights as they are stored (no second copy of the model
// in memory); each one serves every 32-token tile of the batch, so at pp512 the decoding is a
// few percent of the multiply (kiln bench --profile).
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/kernels/quant_dot.h"

namespace kiln::cpu::KILN_ISA_NS {

constexpr int kAmxRows = 32;            // weight rows per panel (two B tiles)
constexpr int kAmxPanelBlocks = 64;     // blocks per panel chunk (2048 elements of k: most matmuls in one)
constexpr int kAmxBlockBytes = 1024;    // one block of a panel: 32 rows x 32 int8

struct AmxPanel {
    alignas(64) int8_t q[kAmxPanelBlocks * kAmxBlockBytes];
    alignas(64) float d[kAmxPanelBlocks * kAmxRows];  // d[block * 32 + row]
    alignas(64) float m[kAmxPanelBlocks * kAmxRows];  // mins (affine types only)
};

// One block's values as signed int8 codes (value = d * q, + m for Q4_1 / Q5_1) in a 256-bit
// vector, element j in byte j.
inline __m256i nibbles32(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)), m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}
// Bit j of qh as 16 in byte j.
inline __m256i high_bits32(const uint8_t* qh) {
    return _mm256_maskz_mov_epi8(load_u32(qh), _mm256_set1_epi8(16));
}
inline __m256i amx_codes(const BlockQ4_0& b) { return _mm256_sub_epi8(nibbles32(b.qs), _mm256_set1_epi8(8)); }
inline __m256i amx_codes(const BlockQ4_1& b) { return nibbles32(b.qs); }
inline __m256i amx_codes(const BlockQ5_0& b) {
    return _mm256_sub_epi8(_mm256_or_si256(nibbles32(b.qs), high_bits32(b.qh)), _mm256_set1_epi8(16));
}
inline __m256i amx_codes(const BlockQ5_1& b) { return _mm256_or_si256(nibbles32(b.qs), high_bits32(b.qh)); }
inline __m256i amx_codes(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
inline __m256i amx_codes(const BlockIQ4_NL& b) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues));
    return _mm256_shuffle_epi8(_mm256_set_m128i(t, t), nibbles32(b.qs));
}
template <typename Block>
inline float amx_min(const Block& b) {
    if constexpr (requires { b.m; }) return h2f(b.m);
    else return 0.0f;
}

// Decodes rows [0, nr) (nr <= 32; the rest zeros) x blocks [j0, j0 + nb) of the weights at `w`
// (rows `wstride` bytes apart) into `p`: per block and 16 rows, the rows' codes go to a 512-byte
// buffer (row n at 32n) and eight gathers pick dword r of each row for tile row r.
template <typename Block>
void amx_fill_panel(const uint8_t* w, uint64_t wstride, int nr, int64_t j0, int nb, AmxPanel& p) {
    alignas(64) int32_t rows[16][8];
    const __m512i by_row = _mm512_set_epi32(120, 112, 104, 96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8, 0);
    for (int half = 0; half < 2; ++half) {
        const Block* row[16];
        for (int n = 0; n < 16; ++n) {
            const int r = 16 * half + n;
            row[n] = r < nr ? reinterpret_cast<const Block*>(w + static_cast<uint64_t>(r) * wstride) + j0 : nullptr;
        }
        for (int j = 0; j < nb; ++j) {
            float* d = p.d + j * kAmxRows + 16 * half;
            float* m = p.m + j * kAmxRows + 16 * half;
            for (int n = 0; n < 16; ++n) {
                const __m256i v = row[n] ? amx_codes(row[n][j]) : _mm256_setzero_si256();
                _mm256_store_si256(reinterpret_cast<__m256i*>(rows[n]), v);
                d[n] = row[n] ? h2f(row[n][j].d) : 0.0f;
                m[n] = row[n] ? amx_min(row[n][j]) : 0.0f;
            }
            int8_t* t = p.q + j * kAmxBlockBytes + 512 * half;
            #pragma GCC unroll 8
            for (int r = 0; r < kQK / 4; ++r) {
                const __m512i idx = _mm512_add_epi32(by_row, _mm512_set1_epi32(r));
                _mm512_store_si512(t + 64 * r, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), kAll, idx, rows, 4));
            }
        }
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
