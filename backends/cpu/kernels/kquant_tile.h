#pragma once
// Register-tiled matmul (tile.h) of the K-quants Q4_K, Q5_K and Q6_K for the ISAs with block-pair
// dots (KILN_CPU_PAIR_DOTS: AVX-512 VNNI and scalar). A 256-element block is 16 groups of 16;
// each of its four steps takes four codes of every group (simd_blocks.h: p64_dwords), the activations
// being quantized in the same order (quantize_act_q8k, interleaved). Per step each row's codes
// are decoded once and used for C columns, each activation step is loaded once and used for R
// rows, and vpdpbusd keeps one exact int32 sum per group. Per block and (row, column) that sum
// is converted once and weighted by d * scale[group] * dx, and the mins term
// (-dmin * mins[group] * dx * bsums[group]) is one more fused multiply-add.
//
// Codes are unsigned (Q6_K: value = code - 32, so its "mins" are 32 * scale).
#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/simd_blocks.h"
#include "backends/cpu/kernels/tile.h"

#if defined(KILN_CPU_PAIR_DOTS)
namespace kiln::cpu::KILN_ISA_NS {

// Per block and row: d * group scales and -dmin * group mins.
struct KScales {
    G16 dsc;
    G16 neg_mins;
};

// Q4_K / Q5_K's twelve scale bytes as eight 6-bit scales and eight 6-bit mins (one byte each,
// little-endian in a u64), by 32-bit word operations: sub-blocks 0-3 keep the low 6 bits of
// bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 take nibbles of bytes 8-11 as the low 4 bits
// and the top 2 bits of bytes 0-3 / 4-7 as bits 4-5 (layout in graph/quant/blocks.h).
inline KScales scales_k4(const uint8_t* s, uint16_t d, uint16_t dmin) {
    const uint32_t a = load_u32(s), b = load_u32(s + 4), c = load_u32(s + 8);
    const uint64_t sc = (a & 0x3f3f3f3fu) | static_cast<uint64_t>((c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)) << 32;
    const uint64_t mn = (b & 0x3f3f3f3fu) | static_cast<uint64_t>(((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u)) << 32;
    return {g16_u8_pairs(sc, h2f(d)), g16_u8_pairs(mn, -h2f(dmin))};
}

inline KScales kscales_q4_k(const BlockQ4_K& b) { return scales_k4(b.scales, b.d, b.dmin); }
inline KScales kscales_q5_k(const BlockQ5_K& b) { return scales_k4(b.scales, b.d, b.dmin); }
inline KScales kscales_q6_k(const BlockQ6_K& b) {
    const float d = h2f(b.d);
    return {g16_i8(b.scales, d), g16_i8(b.scales, -32.0f * d)};
}

// Group k's chunk t, for each source (graph/quant/blocks.h has the layouts).
// Q4_K / Q5_K qs: group k is half k % 2 of sub-block k / 2 = 2c + n, the nibble n of bytes
// 32c + 16 (k % 2) + (0..15).
constexpr DwordPick pick_k4_qs() {
    DwordPick p{};
    for (int k = 0; k < 16; ++k) p.idx[k] = 8 * (k / 4) + 4 * (k % 2), p.sh[k] = 4 * ((k / 2) % 2);
    return p;
}
// Q5_K qh: bit (sub-block) of bytes 16 (k % 2) + (0..15).
constexpr DwordPick pick_q5_k_qh() {
    DwordPick p{};
    for (int k = 0; k < 16; ++k) p.idx[k] = 4 * (k % 2), p.sh[k] = k / 2;
    return p;
}
// Q6_K: group k = 8h + 2q + b (half h, quarter q, half of the quarter b) reads ql bytes
// 64h + 32 (q % 2) + 16b + (0..15), nibble q / 2, and bit pair q of qh bytes 32h + 16b + (0..15).
constexpr DwordPick pick_q6_k_ql() {
    DwordPick p{};
    for (int k = 0; k < 16; ++k) p.idx[k] = 16 * (k / 8) + 8 * ((k / 2) % 2) + 4 * (k % 2), p.sh[k] = 4 * ((k / 4) % 2);
    return p;
}
constexpr DwordPick pick_q6_k_qh() {
    DwordPick p{};
    for (int k = 0; k < 16; ++k) p.idx[k] = 8 * (k / 8) + 4 * (k % 2), p.sh[k] = 2 * ((k / 2) % 4);
    return p;
}
inline constexpr DwordPick kPickK4Qs = pick_k4_qs(), kPickQ5KQh = pick_q5_k_qh(), kPickQ6KQl = pick_q6_k_ql(),
                           kPickQ6KQh = pick_q6_k_qh();

// Codes of step s.
inline P64 kcodes_q4_k(const BlockQ4_K& b, int s) { return p64_dwords<128>(b.qs, kPickK4Qs, s, 15); }
inline P64 kcodes_q5_k(const BlockQ5_K& b, int s) {
    return p64_or(p64_dwords<128>(b.qs, kPickK4Qs, s, 15), p64_shl(p64_dwords<32>(b.qh, kPickQ5KQh, s, 1), 4));
}
inline P64 kcodes_q6_k(const BlockQ6_K& b, int s) {
    return p64_or(p64_dwords<128>(b.ql, kPickQ6KQl, s, 15), p64_shl(p64_dwords<64>(b.qh, kPickQ6KQh, s, 3), 4));
}

template <typename Block, auto scales, auto codes>
struct KQuantTile {
    template <int R, int C>
    struct T {
        // x[c] points at column c's BlockQ8_K blocks (interleaved codes); nb is the blocks per row.
        static void run(const uint8_t* w, uint64_t wstride, int64_t nb, const void* const* vx, float* out, int64_t ldo) {
            const BlockQ8_K* x[C];
            for (int c = 0; c < C; ++c) x[c] = static_cast<const BlockQ8_K*>(vx[c]);
            // A 1 x 1 tile (matvec) splits a block's integer dot into two chains (even / odd
            // steps) so the steps do not all wait on one accumulator.
            constexpr int U = R * C == 1 ? 2 : 1;
            F2 acc[R][C];
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
                for (int c = 0; c < C; ++c) acc[r][c] = f2_zero();
            for (int64_t i = 0; i < nb; ++i) {
                const Block* b[R];
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) b[r] = reinterpret_cast<const Block*>(w + r * wstride) + i;
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) prefetch_weights<sizeof(Block), true>(b[r]);
                IG isum[U][R][C];
#pragma GCC unroll 2
                for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
                    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
                        for (int c = 0; c < C; ++c) isum[u][r][c] = ig_zero();
#pragma GCC unroll 4
                for (int s = 0; s < 4; ++s) {
                    P64 q[R];
#pragma GCC unroll 4
                    for (int r = 0; r < R; ++r) q[r] = codes(*b[r], s);
#pragma GCC unroll 4
                    for (int c = 0; c < C; ++c) {
                        const P64 xq = p64_load64(x[c][i].qs + 64 * s);
#pragma GCC unroll 4
                        for (int r = 0; r < R; ++r) isum[s % U][r][c] = ig_dot(isum[s % U][r][c], q[r], xq);
                    }
                }
                KScales ks[R];
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) ks[r] = scales(*b[r]);
#pragma GCC unroll 4
                for (int c = 0; c < C; ++c) {
                    const BlockQ8_K& xb = x[c][i];
                    const G16 bsums = g16_i16(xb.bsums, xb.d);
#pragma GCC unroll 4
                    for (int r = 0; r < R; ++r) {
                        IG s = isum[0][r][c];
                        if constexpr (U == 2) s = ig_add(s, isum[1][r][c]);
                        acc[r][c] = f2_fma_g(f2_fma_ig(acc[r][c], s, g16_scale(ks[r].dsc, xb.d)), ks[r].neg_mins, bsums);
                    }
                }
            }
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) out[c * ldo + r] = f2_sum(acc[r][c]);
        }
    };
};

template <int R, int C> using Q4_KTile = KQuantTile<BlockQ4_K, kscales_q4_k, kcodes_q4_k>::T<R, C>;
template <int R, int C> using Q5_KTile = KQuantTile<BlockQ5_K, kscales_q5_k, kcodes_q5_k>::T<R, C>;
template <int R, int C> using Q6_KTile = KQuantTile<BlockQ6_K, kscales_q6_k, kcodes_q6_k>::T<R, C>;

// Rows per tile: each (row, column) holds an int32 and a float accumulator, so a 4 x 4 tile
// needs 32 of AVX-512's 32 registers and GCC keeps some in memory; measured on Zen 4, that still
// pays for Q4_K (+10% over 2 x 4), is even for Q6_K and loses 25% for Q5_K (whose decode needs
// more registers), hence 2 rows for those.
inline const Tiles* kquant_tiles(DType t) {
    static constexpr Tiles q4_k = make_tiles<Q4_KTile, 4>(), q5_k = make_tiles<Q5_KTile, 2>(),
                           q6_k = make_tiles<Q6_KTile, 2>();
    switch (t) {
        case DType::Q4_K: return &q4_k;
        case DType::Q5_K: return &q5_k;
        case DType::Q6_K: return &q6_k;
        default: return nullptr;
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
#endif  // KILN_CPU_PAIR_DOTS
