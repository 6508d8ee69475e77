#pragma once
// Register-tiled matmul (tile.h) of the 32-element block types for the ISAs with block-pair dots
// (KILN_CPU_PAIR_DOTS: AVX-512 VNNI and scalar; see simd_blocks.h). The main loop takes four blocks per
// step (simd_blocks.h quads: two vpdpbusd leave four int32 lanes per block, so the conversion and the
// scale multiply-add are paid once per four blocks), the k/32 % 4 tail blocks go two (then one)
// per step. Each decoded weight step is used for C columns, each activation step for R rows, and
// the R*C accumulators stay in registers. Integer products are exact, so only the float
// accumulation order differs from the 32-byte path.
//
// Weight codes are unsigned: value = code - offset (Q4_0: 8, Q5_0: 16, Q8_0 and IQ4_NL: 128
// after shifting the signed codes) or, for Q4_1 / Q5_1, d * code + m. The offset enters the
// integer dot through its start value, -offset * sum(xq), computed once per activation step.
#include "backends/cpu/kernels/quant_dot.h"
#include "backends/cpu/kernels/simd_blocks.h"
#include "backends/cpu/kernels/tile.h"

#if defined(KILN_CPU_PAIR_DOTS)
namespace kiln::cpu::KILN_ISA_NS {

// A decoded weight pair: codes, scales (f2_pair) and, for affine types, mins (f2_once).
struct WPair {
    P64 q;
    F2 d, m;
};

// Each decoder reads block b[0] and, when `two`, b[1].
inline WPair pair_q4_0(const BlockQ4_0* b, bool two) {
    return {p64_nibbles(b[0].qs, two ? b[1].qs : nullptr), f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f), f2_zero()};
}
inline WPair pair_q4_1(const BlockQ4_1* b, bool two) {
    return {p64_nibbles(b[0].qs, two ? b[1].qs : nullptr), f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f),
            f2_once(h2f(b[0].m), two ? h2f(b[1].m) : 0.0f)};
}
inline P64 q5_codes(const uint8_t* qs0, const uint8_t* qh0, const uint8_t* qs1, const uint8_t* qh1) {
    return p64_or(p64_nibbles(qs0, qs1), p64_bits(load_u32(qh0), qh1 ? load_u32(qh1) : 0u, 16));
}
inline WPair pair_q5_0(const BlockQ5_0* b, bool two) {
    return {q5_codes(b[0].qs, b[0].qh, two ? b[1].qs : nullptr, two ? b[1].qh : nullptr),
            f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f), f2_zero()};
}
inline WPair pair_q5_1(const BlockQ5_1* b, bool two) {
    return {q5_codes(b[0].qs, b[0].qh, two ? b[1].qs : nullptr, two ? b[1].qh : nullptr),
            f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f), f2_once(h2f(b[0].m), two ? h2f(b[1].m) : 0.0f)};
}
// Signed codes + 128. Without a second block its codes are 0x80, but they meet zero activations.
inline WPair pair_q8_0(const BlockQ8_0* b, bool two) {
    return {p64_xor80(p64_load(b[0].qs, two ? b[1].qs : nullptr)), f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f),
            f2_zero()};
}
// IQ4_NL's values + 128, so the lookup yields unsigned codes with offset 128.
struct IQ4NLShifted {
    uint8_t v[16];
};
constexpr IQ4NLShifted iq4nl_shifted() {
    IQ4NLShifted t{};
    for (int i = 0; i < 16; ++i) t.v[i] = static_cast<uint8_t>(kIQ4NLValues[i] + 128);
    return t;
}
inline constexpr IQ4NLShifted kIQ4NLShifted = iq4nl_shifted();
inline WPair pair_iq4_nl(const BlockIQ4_NL* b, bool two) {
    return {p64_lookup16(p64_nibbles(b[0].qs, two ? b[1].qs : nullptr), kIQ4NLShifted.v),
            f2_pair(h2f(b[0].d), two ? h2f(b[1].d) : 0.0f), f2_zero()};
}

// A decoded weight quad (simd_blocks.h quads): blocks b[0..3]'s codes, scales and, for affine types, mins.
struct WQuad {
    P64 lo, hi;
    F4 d, m;
};
template <typename Block>
inline F4 quad_d(const Block* b) { return f4_halves(reinterpret_cast<const uint8_t*>(&b->d), sizeof(Block)); }
template <typename Block>
inline F4 quad_m(const Block* b) { return f4_halves_once(reinterpret_cast<const uint8_t*>(&b->m), sizeof(Block)); }
// Q5 high bits: bit j of qh is code j's bit 4; lo takes bits 0..15 of each block, hi 16..31.
template <typename Block>
inline void quad_q5_high(const Block* b, WQuad& w) {
    uint64_t lo = 0, hi = 0;
    for (int k = 0; k < 4; ++k) {
        const uint32_t h = load_u32(b[k].qh);
        lo |= static_cast<uint64_t>(h & 0xffffu) << (16 * k), hi |= static_cast<uint64_t>(h >> 16) << (16 * k);
    }
    w.lo = p64_or(w.lo, p64_mask_bytes(lo, 16)), w.hi = p64_or(w.hi, p64_mask_bytes(hi, 16));
}
template <typename Block>
inline WQuad quad_nibbles(const Block* b) {
    const P64 v = p64_quad16(b->qs, sizeof(Block));
    return {p64_lo_nibbles(v), p64_hi_nibbles(v), quad_d(b), f4_zero()};
}
inline WQuad quad_q4_0(const BlockQ4_0* b) { return quad_nibbles(b); }
inline WQuad quad_q4_1(const BlockQ4_1* b) {
    WQuad w = quad_nibbles(b);
    w.m = quad_m(b);
    return w;
}
inline WQuad quad_q5_0(const BlockQ5_0* b) {
    WQuad w = quad_nibbles(b);
    quad_q5_high(b, w);
    return w;
}
inline WQuad quad_q5_1(const BlockQ5_1* b) {
    WQuad w = quad_nibbles(b);
    w.m = quad_m(b);
    quad_q5_high(b, w);
    return w;
}
inline WQuad quad_q8_0(const BlockQ8_0* b) {
    return {p64_xor80(p64_quad16(b->qs, sizeof(BlockQ8_0))), p64_xor80(p64_quad16(b->qs + 16, sizeof(BlockQ8_0))),
            quad_d(b), f4_zero()};
}
inline WQuad quad_iq4_nl(const BlockIQ4_NL* b) {
    WQuad w = quad_nibbles(b);
    w.lo = p64_lookup16(w.lo, kIQ4NLShifted.v), w.hi = p64_lookup16(w.hi, kIQ4NLShifted.v);
    return w;
}

// One quad step: blocks 4q..4q+3 of R rows and C columns into acc (loops unrolled as in pair_step).
template <typename Block, int R, int C, uint8_t Offset, bool Min, auto decode>
[[gnu::always_inline]] inline void quad_step(const uint8_t* w, uint64_t wstride, int64_t q, const BlockQ8A4* const* x,
                                             F4 (&acc)[R][C]) {
    WQuad wq[R];
    #pragma GCC unroll 4
    for (int r = 0; r < R; ++r) wq[r] = decode(reinterpret_cast<const Block*>(w + r * wstride) + 4 * q);
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        const BlockQ8A4& b = x[c][q];
        const P64 xlo = p64_load64(b.qs), xhi = p64_load64(b.qs + 64);
        const F4 xd = f4_load4(b.d);
        const I4 start = Offset ? i4_neg_offset(xlo, xhi, Offset) : i4_zero();
        #pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
            acc[r][c] = f4_fma_i(acc[r][c], i4_dot(i4_dot(start, wq[r].lo, xlo), wq[r].hi, xhi), f4_mul(wq[r].d, xd));
        if constexpr (Min) {
            const F4 xs = f4_load4(b.ds);
            #pragma GCC unroll 4
            for (int r = 0; r < R; ++r) acc[r][c] = f4_fma(acc[r][c], wq[r].m, xs);
        }
    }
}

// One step of pair_tile: blocks i (and i + 1 when Two) of R rows and C columns into acc.
// The loops over r and c are unrolled up front (#pragma) so GCC sees constant indices and keeps
// the R*C accumulators in registers; otherwise it stored all of them to the stack every step.
template <typename Block, int R, int C, uint8_t Offset, bool Min, auto decode, bool Two>
[[gnu::always_inline]] inline void pair_step(const uint8_t* w, uint64_t wstride, int64_t i, const BlockQ8A* const* x,
                                             F2 (&acc)[R][C]) {
    WPair wp[R];
    #pragma GCC unroll 4
    for (int r = 0; r < R; ++r) wp[r] = decode(reinterpret_cast<const Block*>(w + r * wstride) + i, Two);
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        const BlockQ8A* b = x[c] + i;
        const P64 xq = p64_load(b[0].qs, Two ? b[1].qs : nullptr);
        const F2 xd = f2_pair(b[0].d, Two ? b[1].d : 0.0f);
        const I2 start = Offset ? i2_neg_offset(xq, Offset) : i2_zero();
        #pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][c] = f2_fma_i(acc[r][c], i2_dot(start, wp[r].q, xq), f2_mul(wp[r].d, xd));
        if constexpr (Min) {
            const F2 xs = f2_pair(b[0].ds, Two ? b[1].ds : 0.0f);
            #pragma GCC unroll 4
            for (int r = 0; r < R; ++r) acc[r][c] = f2_fma(acc[r][c], wp[r].m, xs);
        }
    }
}

template <typename Block, uint8_t Offset, bool Min, auto decode, auto decode_quad>
struct PairTile {
    template <int R, int C>
    struct T {
        // x[c] points at column c's activations: nb / 4 BlockQ8A4 quads, then the remaining
        // blocks as BlockQ8A (which, quads being four blocks' size, sit at their block index).
        static void run(const uint8_t* w, uint64_t wstride, int64_t nb, const void* const* vx, float* out, int64_t ldo) {
            const BlockQ8A4* xq[C];
            const BlockQ8A* x[C];
            for (int c = 0; c < C; ++c) xq[c] = static_cast<const BlockQ8A4*>(vx[c]), x[c] = static_cast<const BlockQ8A*>(vx[c]);
            F4 acc[R][C];
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
                for (int c = 0; c < C; ++c) acc[r][c] = f4_zero();
            const int64_t nq = nb / 4;
            for (int64_t q = 0; q < nq; ++q) {
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) prefetch_weights<4 * sizeof(Block), wide_weights(sizeof(Block), kQK)>(w + r * wstride + 4 * q * sizeof(Block));
                quad_step<Block, R, C, Offset, Min, decode_quad>(w, wstride, q, xq, acc);
            }
            float tail[R][C] = {};
            if (nb > 4 * nq) {
                F2 acc2[R][C];
                for (int r = 0; r < R; ++r)
                    for (int c = 0; c < C; ++c) acc2[r][c] = f2_zero();
                int64_t i = 4 * nq;
                for (; i + 2 <= nb; i += 2) pair_step<Block, R, C, Offset, Min, decode, true>(w, wstride, i, x, acc2);
                if (i < nb) pair_step<Block, R, C, Offset, Min, decode, false>(w, wstride, i, x, acc2);
                for (int r = 0; r < R; ++r)
                    for (int c = 0; c < C; ++c) tail[r][c] = f2_sum(acc2[r][c]);
            }
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) out[c * ldo + r] = f4_sum(acc[r][c]) + tail[r][c];
        }
    };
};

template <int R, int C> using Q4_0Tile = PairTile<BlockQ4_0, 8, false, pair_q4_0, quad_q4_0>::T<R, C>;
template <int R, int C> using Q4_1Tile = PairTile<BlockQ4_1, 0, true, pair_q4_1, quad_q4_1>::T<R, C>;
template <int R, int C> using Q5_0Tile = PairTile<BlockQ5_0, 16, false, pair_q5_0, quad_q5_0>::T<R, C>;
template <int R, int C> using Q5_1Tile = PairTile<BlockQ5_1, 0, true, pair_q5_1, quad_q5_1>::T<R, C>;
template <int R, int C> using Q8_0Tile = PairTile<BlockQ8_0, 128, false, pair_q8_0, quad_q8_0>::T<R, C>;
template <int R, int C> using IQ4NLTile = PairTile<BlockIQ4_NL, 128, false, pair_iq4_nl, quad_iq4_nl>::T<R, C>;

// The tiles of a 32-element block type, or nullptr. Four rows x four columns: 16 accumulators
// and 4 decoded weight quads (codes lo/hi, scales) exceed AVX-512's 32 registers a little (GCC
// keeps ~6 accumulators in memory), yet measured on Zen 4 beat 3 rows (Q4_0: -4%) and 2 rows
// (Q8_0: -25%).
inline const Tiles* pair_tiles(DType t) {
    static constexpr Tiles q4_0 = make_tiles<Q4_0Tile, 4>(), q4_1 = make_tiles<Q4_1Tile, 4>(),
                           q5_0 = make_tiles<Q5_0Tile, 4>(), q5_1 = make_tiles<Q5_1Tile, 4>(),
                           q8_0 = make_tiles<Q8_0Tile, 4>(), iq4_nl = make_tiles<IQ4NLTile, 4>();
    switch (t) {
        case DType::Q4_0: return &q4_0;
        case DType::Q4_1: return &q4_1;
        case DType::Q5_0: return &q5_0;
        case DType::Q5_1: return &q5_1;
        case DType::Q8_0: return &q8_0;
        case DType::IQ4_NL: return &iq4_nl;
        default: return nullptr;
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
#endif  // KILN_CPU_PAIR_DOTS
