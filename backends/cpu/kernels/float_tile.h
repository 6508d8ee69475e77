#pragma once
// Register-tiled matmul for float weights (F32, F16, BF16; x is f32). Each step loads one vector
// of R weight rows (converting f16 / bf16 in registers) and one vector of each of C columns, and
// does R*C FMAs into R*C accumulators: in a matvec (C = 1) the R rows are R independent weight
// streams and FMA chains sharing each x load; in a batch every weight vector serves C columns.
#include "backends/cpu/kernels/tile.h"

namespace kiln::cpu::KILN_ISA_NS {

enum class WKind { F32, F16, BF16 };

template <WKind K>
inline FV w_load(const uint8_t* w, int64_t i) {
    if constexpr (K == WKind::F32) return fv_load(reinterpret_cast<const float*>(w) + i);
    else if constexpr (K == WKind::F16) return fv_load(reinterpret_cast<const uint16_t*>(w) + i);
    else return fv_load_bf16(reinterpret_cast<const uint16_t*>(w) + i);
}

template <WKind K>
inline float w_scalar(const uint8_t* w, int64_t i) {
    if constexpr (K == WKind::F32) return reinterpret_cast<const float*>(w)[i];
    else if constexpr (K == WKind::F16) return h2f(reinterpret_cast<const uint16_t*>(w)[i]);
    else return bf2f(reinterpret_cast<const uint16_t*>(w)[i]);
}

// Rows per tile: AVX-512 has 32 vector registers (16 accumulators + 4 weights + x fit), AVX2
// and the scalar build 16.
constexpr int kFloatTileRows = kW == 16 ? 4 : 2;

template <WKind K>
struct FloatTile {
    template <int R, int C>
    struct T {
        // Small tiles (the tail rows of a matvec) get two accumulator sets so consecutive FMAs
        // do not wait on each other's latency.
        static constexpr int U = R * C <= 2 ? 2 : 1;

        static void run(const uint8_t* w, uint64_t wstride, int64_t k, const void* const* vx, float* out, int64_t ldo) {
            const float* x[C];
            for (int c = 0; c < C; ++c) x[c] = static_cast<const float*>(vx[c]);
            FV acc[U][R][C];
#pragma GCC unroll 4
            for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
                    for (int c = 0; c < C; ++c) acc[u][r][c] = fv_zero();
            int64_t i = 0;
            constexpr int64_t kBytes = K == WKind::F32 ? 4 : 2;  // per weight
            for (; i + U * kW <= k; i += U * kW) {
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) prefetch_weights<U * kW * kBytes, true>(w + r * wstride + i * kBytes);
#pragma GCC unroll 2
                for (int u = 0; u < U; ++u) {
                    FV wv[R];
#pragma GCC unroll 4
                    for (int r = 0; r < R; ++r) wv[r] = w_load<K>(w + r * wstride, i + u * kW);
#pragma GCC unroll 4
                    for (int c = 0; c < C; ++c) {
                        const FV xv = fv_load(x[c] + i + u * kW);
#pragma GCC unroll 4
                        for (int r = 0; r < R; ++r) acc[u][r][c] = fv_fma(wv[r], xv, acc[u][r][c]);
                    }
                }
            }
            for (; i + kW <= k; i += kW) {
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) {
                    const FV wv = w_load<K>(w + r * wstride, i);
#pragma GCC unroll 4
                    for (int c = 0; c < C; ++c) acc[0][r][c] = fv_fma(wv, fv_load(x[c] + i), acc[0][r][c]);
                }
            }
            for (int r = 0; r < R; ++r) {
                for (int c = 0; c < C; ++c) {
                    FV s = acc[0][r][c];
                    for (int u = 1; u < U; ++u) s = fv_add(s, acc[u][r][c]);
                    float o = fv_sum(s);
                    for (int64_t j = i; j < k; ++j) o += w_scalar<K>(w + r * wstride, j) * x[c][j];
                    out[c * ldo + r] = o;
                }
            }
        }
    };
};

template <int R, int C> using F32Tile = FloatTile<WKind::F32>::T<R, C>;
template <int R, int C> using F16Tile = FloatTile<WKind::F16>::T<R, C>;
template <int R, int C> using BF16Tile = FloatTile<WKind::BF16>::T<R, C>;

// The tiles of a float weight type, or nullptr.
inline const Tiles* float_tiles(DType t) {
    static constexpr Tiles f32 = make_tiles<F32Tile, kFloatTileRows>(), f16 = make_tiles<F16Tile, kFloatTileRows>(),
                           bf16 = make_tiles<BF16Tile, kFloatTileRows>();
    switch (t) {
        case DType::F32: return &f32;
        case DType::F16: return &f16;
        case DType::BF16: return &bf16;
        default: return nullptr;
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
