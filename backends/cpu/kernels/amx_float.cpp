// Prompt matmuls of F16 and BF16 weights on AMX bf16 tiles (`tdpbf16ps`: f32 sums of bf16
// products), part of the Amx kernel table (amx_matmul.cpp dispatches here).
//
// bf16 keeps 8 significant bits, too few for f16 weights (11) or for activations, so both are
// split: x = x_hi + x_lo (bf16 each; x_lo is the rounding error of x_hi, so the pair keeps 16
// bits) and an f16 w = w_hi + w_lo exactly (w_lo holds the 3 bits w_hi lacks). The product is
// w_hi x_hi + w_hi x_lo + w_lo x_hi, three tile multiplies; what is left out, w_lo x_lo, is below
// 2^-17 of w x, finer than llama.cpp's CPU path, which rounds x to f16. BF16 weights have no
// w_lo: two multiplies.
//
// Phase 1 stages every column of x as k bf16 x_hi, then k x_lo. Phase 2 takes 16-token passes x
// 32 weight rows: A tiles are x_hi and x_lo of 16 tokens and 32 elements (loaded straight from the
// staging, the stride being the column's bytes), B tiles w_hi and w_lo of 16 rows each from a
// panel decoded per call like the int8 ones (amx_panel.h), and the C tiles accumulate in f32
// over the whole panel chunk: no per-block epilogue.
#include <cstring>

#include "backends/cpu/kernels/amx_tiles.h"
#include "backends/cpu/kernels/common.h"

namespace kiln::cpu::amx {
namespace {

constexpr int kUnit = 32;      // elements of k per tile multiply: 64 bytes of bf16
constexpr int kChunk = 512;    // elements of k per panel chunk
constexpr int kRows = kAmxRows;
constexpr int kTokens = kAmxTokens;  // one A tile of x_hi and one of x_lo

// Per unit of 32 elements: B tiles w_hi rows 0..15, w_lo rows 0..15, w_hi rows 16..31, w_lo
// rows 16..31; dword n of tile row r holds elements 2r and 2r + 1 of row n.
struct FloatPanel {
    alignas(64) uint16_t b[kChunk / kUnit][4][16 * 32];
};

// bf16 bits (in the low half of each 32-bit lane) of x rounded to nearest even.
inline __m512i bf16_bits(__m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_maskz_srli_epi32(kAll, b, 16), _mm512_set1_epi32(1));
    return _mm512_maskz_srli_epi32(kAll, _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
}
inline __m512 bf16_value(__m512i bits) { return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, bits, 16)); }

// x = hi + lo: 16 floats as 16 bf16 each.
inline void split16(__m512 x, uint16_t* hi, uint16_t* lo) {
    const __m512i h = bf16_bits(x);
    const __m512i l = bf16_bits(_mm512_sub_ps(x, bf16_value(h)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi), _mm512_maskz_cvtepi32_epi16(kAll, h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo), _mm512_maskz_cvtepi32_epi16(kAll, l));
}

inline __m512 load16(DType t, const uint8_t* p) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if (t == DType::F16) return _mm512_maskz_cvtph_ps(kAll, v);
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, _mm512_maskz_cvtepu16_epi32(kAll, v), 16));  // bf16
}

// Decodes rows [0, nr) (the rest zeros) x elements [e0, e0 + ne) of the F16 / BF16 weights at w
// into p (units of 32; ne a multiple of 32).
void fill_float_panel(DType t, const uint8_t* w, uint64_t wstride, int nr, int64_t e0, int ne, FloatPanel& p) {
    alignas(64) uint16_t hi[16][kUnit], lo[16][kUnit];
    const __m512i by_row = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
    for (int half = 0; half < 2; ++half) {
        for (int u = 0; u < ne / kUnit; ++u) {
            for (int n = 0; n < 16; ++n) {
                const int r = 16 * half + n;
                if (r >= nr) {
                    std::memset(hi[n], 0, sizeof hi[n]), std::memset(lo[n], 0, sizeof lo[n]);
                    continue;
                }
                const uint8_t* src = w + static_cast<uint64_t>(r) * wstride + static_cast<uint64_t>(e0 + u * kUnit) * 2;
                split16(load16(t, src), hi[n], lo[n]);
                split16(load16(t, src + 32), hi[n] + 16, lo[n] + 16);
            }
            uint16_t* bh = p.b[u][2 * half];
            uint16_t* bl = p.b[u][2 * half + 1];
            #pragma GCC unroll 4
            for (int r = 0; r < 16; ++r) {
                const __m512i idx = _mm512_add_epi32(by_row, _mm512_set1_epi32(r));
                _mm512_store_si512(bh + 32 * r, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), kAll, idx, hi, 4));
                _mm512_store_si512(bl + 32 * r, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), kAll, idx, lo, 4));
            }
        }
    }
}

// Tiles 0, 1: A = x_hi, x_lo of mt tokens; 2..5: B = w_hi, w_lo of rows 0..15, then 16..31;
// 6, 7: C for rows 0..15 / 16..31.
void configure_float_tiles(int mt) {
    TileConfig c;
    c.set(0, mt, 64), c.set(1, mt, 64);
    for (int t = 2; t < 6; ++t) c.set(t, 16, 64);
    c.set(6, mt, 64), c.set(7, mt, 64);
    load_tile_config(c);
}

// C[m][0..31] += the chunk's units . token m, x_hi of token m at xh + m * stride (x_lo 2k bytes on).
template <bool SplitW>
void float_pass(const FloatPanel& p, int units, const uint8_t* xh, size_t xlo_offset, long stride) {
    for (int u = 0; u < units; ++u) {
        const uint8_t* a = xh + static_cast<size_t>(u) * kUnit * 2;
        _tile_loadd(0, a, stride);
        _tile_loadd(1, a + xlo_offset, stride);
        _tile_loadd(2, p.b[u][0], 64);
        _tile_loadd(4, p.b[u][2], 64);
        _tile_dpbf16ps(6, 0, 2);
        _tile_dpbf16ps(6, 1, 2);
        _tile_dpbf16ps(7, 0, 4);
        _tile_dpbf16ps(7, 1, 4);
        if constexpr (SplitW) {
            _tile_loadd(3, p.b[u][1], 64);
            _tile_loadd(5, p.b[u][3], 64);
            _tile_dpbf16ps(6, 0, 3);
            _tile_dpbf16ps(7, 0, 5);
        }
    }
}

}  // namespace

// Phase 1 for the bf16 tiles: column c of x at staged_x + c * 4k as k bf16 x_hi, then k x_lo.
void stage_bf16_split(const CpuKernelArgs& a) {
    if (a.staged_x_ready) return;
    const Tensor& X = src(a, 1);
    const int64_t k = X.ne[0];
    uint8_t* xbase = src_data(a, 1);
    float tmp[kUnit];
    const Range r = share(X.n_rows(), a.ith, a.nth);
    for (int64_t c = r.begin; c < r.end; ++c) {
        const uint8_t* xr = flat_row(X, xbase, c);
        auto* hi = reinterpret_cast<uint16_t*>(a.staged_x + static_cast<size_t>(c) * static_cast<size_t>(k) * 4);
        uint16_t* lo = hi + k;
        const size_t esize = X.type == DType::F32 ? 4 : 2;
        for (int64_t i = 0; i < k; i += kUnit) {
            const float* f = floats(X.type, xr + static_cast<size_t>(i) * esize, kUnit, tmp);
            split16(_mm512_loadu_ps(f), hi + i, lo + i);
            split16(_mm512_loadu_ps(f + 16), hi + i + 16, lo + i + 16);
        }
    }
    a.barrier->wait();
}

// Phase 2: each thread takes whole 32-row panels (or, with fewer panels than threads, all panels
// for a share of the passes); per panel, k in chunks of kChunk decoded once for every pass. The
// running sums live in y between chunks (through a small buffer, so tail rows stay untouched).
void float_tile_matmul(const CpuKernelArgs& a) {
    const Tensor& W = src(a, 0);
    const int64_t k = W.ne[0], n = W.ne[1], cols = src(a, 1).n_rows();
    const uint8_t* wbase = src_data(a, 0);
    auto* y = reinterpret_cast<float*>(dst_data(a));
    const size_t col_bytes = static_cast<size_t>(k) * 4;
    const AmxShare mine = amx_share(n, cols, a.ith, a.nth);
    if (mine.empty()) return;
    const Range pr = mine.panels, tr = mine.passes;
    const bool split_w = W.type == DType::F16;

    FloatPanel panel;
    alignas(64) float cbuf[kTokens][kRows];
    int configured = 0;
    for (int64_t p = pr.begin; p < pr.end; ++p) {
        const int64_t r0 = p * kRows;
        const int nr = static_cast<int>(imin(kRows, n - r0));
        const __mmask16 k0 = first_lanes(nr), k1 = first_lanes(nr - 16);
        for (int64_t e0 = 0; e0 < k; e0 += kChunk) {
            const int ne = static_cast<int>(imin(kChunk, k - e0));
            fill_float_panel(W.type, wbase + static_cast<uint64_t>(r0) * W.nb[1], W.nb[1], nr, e0, ne, panel);
            for (int64_t t = tr.begin; t < tr.end; ++t) {
                const int64_t c0 = t * kTokens;
                const int mt = static_cast<int>(imin(kTokens, cols - c0));
                if (mt != configured) configure_float_tiles(mt), configured = mt;
                for (int m = 0; m < mt; ++m) {  // the sums so far (zeros for the first chunk)
                    const float* yr = y + (c0 + m) * n + r0;
                    _mm512_store_ps(cbuf[m], e0 ? _mm512_maskz_loadu_ps(k0, yr) : _mm512_setzero_ps());
                    _mm512_store_ps(cbuf[m] + 16, e0 ? _mm512_maskz_loadu_ps(k1, yr + 16) : _mm512_setzero_ps());
                }
                _tile_loadd(6, cbuf[0], sizeof cbuf[0]);
                _tile_loadd(7, cbuf[0] + 16, sizeof cbuf[0]);
                const uint8_t* xh = a.staged_x + static_cast<size_t>(c0) * col_bytes + static_cast<size_t>(e0) * 2;
                if (split_w) float_pass<true>(panel, ne / kUnit, xh, static_cast<size_t>(k) * 2, static_cast<long>(col_bytes));
                else float_pass<false>(panel, ne / kUnit, xh, static_cast<size_t>(k) * 2, static_cast<long>(col_bytes));
                _tile_stored(6, cbuf[0], sizeof cbuf[0]);
                _tile_stored(7, cbuf[0] + 16, sizeof cbuf[0]);
                for (int m = 0; m < mt; ++m) {
                    float* yr = y + (c0 + m) * n + r0;
                    _mm512_mask_storeu_ps(yr, k0, _mm512_load_ps(cbuf[m]));
                    _mm512_mask_storeu_ps(yr + 16, k1, _mm512_load_ps(cbuf[m] + 16));
                }
            }
        }
    }
    _tile_release();
}

}  // namespace kiln::cpu::amx
