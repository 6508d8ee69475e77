#pragma once
// The contract of a register-tiled matmul kernel: one call computes an R x C block of the output
// (R weight rows, C activation columns) over the whole inner dimension, with R <= Tiles::rows and
// C <= 4. float_tile.h (F32/F16/BF16 weights) and pair_tile.h (32-element quant blocks) fill it.
#include <cstdint>

#include "backends/cpu/kernels/common.h"

namespace kiln::cpu::KILN_ISA_NS {

// out[c * ldo + r] = row r . column c. `w` is row 0 (rows `wstride` bytes apart), x[c] column c
// (f32 values or quantized blocks, as the kernel's type needs), `inner` the values or blocks
// per row.
using TileFn = void (*)(const uint8_t* w, uint64_t wstride, int64_t inner, const void* const* x, float* out,
                        int64_t ldo);

constexpr int kTileMaxRows = 4;
constexpr int kTileMaxCols = 4;

struct Tiles {
    TileFn f[kTileMaxRows][kTileMaxCols];  // f[R - 1][C - 1]
    int rows;                              // the largest R this kernel has
};

// Fills f[R - 1][0..3] with K<R, C> for C = 1..4 (K: a template taking R and C).
template <template <int, int> class K, int R>
constexpr void fill_tile_row(Tiles& t) {
    t.f[R - 1][0] = K<R, 1>::run;
    t.f[R - 1][1] = K<R, 2>::run;
    t.f[R - 1][2] = K<R, 3>::run;
    t.f[R - 1][3] = K<R, 4>::run;
}

// Tiles for R = 1..MaxR.
template <template <int, int> class K, int MaxR>
constexpr Tiles make_tiles() {
    Tiles t{};
    t.rows = MaxR;
    fill_tile_row<K, 1>(t);
    if constexpr (MaxR >= 2) fill_tile_row<K, 2>(t);
    if constexpr (MaxR >= 3) fill_tile_row<K, 3>(t);
    if constexpr (MaxR >= 4) fill_tile_row<K, 4>(t);
    return t;
}

}  // namespace kiln::cpu::KILN_ISA_NS
