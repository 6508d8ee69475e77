#pragma once
// Register-tiled matmul (tile.h) of the 32-element block types for the ISAs with block-pair dots
// (KILN_CPU_PAIR_DOTS: AVX-512 VNNI and scalar; see simd.h), two blocks per step: each weight pair is decoded once and used for C columns, each activation
// pair is loaded once and used for R rows, and the R*C accumulators stay in registers. Integer
// products are exact, so only the float accumulation order differs from the 32-byte path.
//
// Weight codes are unsigned: value = code - offset (Q4_0: 8, Q5_0: 16, Q8_0 and IQ4_NL: 128
// after shifting the signed codes) or, for Q4_1 / Q5_1, d * code + m. The offset enters the
// integer dot through its start value, -offset * sum(xq), computed once per activation pair.
#include "backends/cpu/kernels/quant_dot.h"
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

template <typename Block, uint8_t Offset, bool Min, auto decode>
struct PairTile {
    template <int R, int C>
    struct T {
        // x[c] points at column c's BlockQ8A blocks; nb is the blocks per row.
        static void run(const uint8_t* w, uint64_t wstride, int64_t nb, const void* const* vx, float* out, int64_t ldo) {
            const BlockQ8A* x[C];
            for (int c = 0; c < C; ++c) x[c] = static_cast<const BlockQ8A*>(vx[c]);
            // A 1 x 1 tile (matvec) alternates two accumulators so steps do not wait on the
            // previous step's FMA.
            constexpr int U = R * C == 1 ? 2 : 1;
            F2 acc[U][R][C];
#pragma GCC unroll 2
            for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
                    for (int c = 0; c < C; ++c) acc[u][r][c] = f2_zero();
            int64_t i = 0;
            for (; i + 2 * U <= nb; i += 2 * U) {
#pragma GCC unroll 2
                for (int u = 0; u < U; ++u) pair_step<Block, R, C, Offset, Min, decode, true>(w, wstride, i + 2 * u, x, acc[u]);
            }
            for (; i + 2 <= nb; i += 2) pair_step<Block, R, C, Offset, Min, decode, true>(w, wstride, i, x, acc[0]);
            if (i < nb) pair_step<Block, R, C, Offset, Min, decode, false>(w, wstride, i, x, acc[0]);
            for (int r = 0; r < R; ++r) {
                for (int c = 0; c < C; ++c) {
                    F2 s = acc[0][r][c];
                    for (int u = 1; u < U; ++u) s = f2_add(s, acc[u][r][c]);
                    out[c * ldo + r] = f2_sum(s);
                }
            }
        }
    };
};

template <int R, int C> using Q4_0Tile = PairTile<BlockQ4_0, 8, false, pair_q4_0>::T<R, C>;
template <int R, int C> using Q4_1Tile = PairTile<BlockQ4_1, 0, true, pair_q4_1>::T<R, C>;
template <int R, int C> using Q5_0Tile = PairTile<BlockQ5_0, 16, false, pair_q5_0>::T<R, C>;
template <int R, int C> using Q5_1Tile = PairTile<BlockQ5_1, 0, true, pair_q5_1>::T<R, C>;
template <int R, int C> using Q8_0Tile = PairTile<BlockQ8_0, 128, false, pair_q8_0>::T<R, C>;
template <int R, int C> using IQ4NLTile = PairTile<BlockIQ4_NL, 128, false, pair_iq4_nl>::T<R, C>;

// The tiles of a 32-element block type, or nullptr. Four rows x four columns: 16 accumulators,
// 4 decoded weight pairs with their scales and one activation pair fill AVX-512's 32 registers.
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
