#pragma once
// The AMX tile configuration shared by the int8 (amx_matmul.cpp) and bf16 (amx_float.cpp)
// matmuls: palette 1, eight tiles whose rows and bytes per row each kernel sets.
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/kernels/common.h"

namespace kiln::cpu::KILN_ISA_NS {

constexpr int kAmxRows = 32;    // weight rows per panel: two B tiles
constexpr int kAmxTokens = 16;  // tokens per pass: one A tile (of each kind)

// A thread's work in both matmuls: whole 32-row panels, or, with fewer panels than threads, all
// panels for a share of the 16-token passes.
struct AmxShare {
    Range panels, passes;
    bool empty() const { return panels.begin >= panels.end || passes.begin >= passes.end; }
};
inline AmxShare amx_share(int64_t n, int64_t cols, int ith, int nth) {
    const int64_t panels = (n + kAmxRows - 1) / kAmxRows, passes = (cols + kAmxTokens - 1) / kAmxTokens;
    if (panels >= nth) return {share(panels, ith, nth), {0, passes}};
    return {{0, panels}, share(passes, ith, nth)};
}

struct alignas(64) TileConfig {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};

    void set(int tile, int n_rows, int bytes_per_row) {
        rows[tile] = static_cast<uint8_t>(n_rows);
        colsb[tile] = static_cast<uint16_t>(n_rows ? bytes_per_row : 0);
    }
};
static_assert(sizeof(TileConfig) == 64);

// Loads `c` into this thread's tile state (each thread has its own; _tile_release() drops it).
inline void load_tile_config(const TileConfig& c) {
    // GCC 12 does not see that ldtilecfg reads the configuration and drops the stores that
    // filled it: the pointer escapes into an empty asm that clobbers memory, so they happen first.
    asm volatile("" : : "r"(&c) : "memory");
    _tile_loadconfig(&c);
}

// Lane masks for the first n (0..16) floats of a vector and the n - 16 after it.
inline __mmask16 first_lanes(int n) { return static_cast<__mmask16>(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1); }

}  // namespace kiln::cpu::KILN_ISA_NS
