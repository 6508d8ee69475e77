// The Amx kernel table: AVX-512's kernels, with prompt matmuls of the 32-element block types and
// Q4_K / Q5_K / Q6_K on Intel AMX tiles. Compiled once, with the AVX-512 flags plus AMX's, into
// kiln::cpu::amx.
//
// y = W^T x in 16-token x 32-row passes, one unit of k at a time (amx_panel.h: a 32-element
// block or K-quant sub-block; 16 elements for Q6_K): an A tile holds the unit's int8 codes for
// the 16 tokens, straight from the staged Q8A / Q8_K activations (the tile load's stride is the
// column stride), two B tiles hold it for 16 weight rows each, and `tdpbssd` leaves two 16 x 16
// int32 dot products. Every unit has its own weight scale and every block its activation scale,
// so the int32 results go through memory into f32 accumulators unit by unit: acc += f32(dot) *
// d_w * d_x, plus the mins (Q4_1 / Q5_1: m_w * d_x * sum(x_q) per block; Q4_K / Q5_K: per
// 256-block, the eight mins . d_x * the sub-block sums of x_q). That epilogue is AVX-512 work;
// it runs two units behind the tile multiplies (three result buffers), so the two overlap.
//
// Batches of fewer than kMinCols columns (decode, small batches) and the other types take
// AVX-512's matmul, so AVX-512's matvec is what generation uses.
#include <immintrin.h>

#include <cstddef>
#include <type_traits>

#include "backends/cpu/kernels/amx_panel.h"
#include "backends/cpu/kernels/amx_tiles.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu {
namespace avx512 {
void matmul(const CpuKernelArgs& a);
int matmul_staged_format(const Tensor& w, const Tensor& x);
void stage_matmul_x(const CpuKernelArgs& a, bool interleaved);
const CpuKernelTable& kernel_table();
}  // namespace avx512

namespace amx {
void stage_bf16_split(const CpuKernelArgs& a);  // amx_float.cpp
void float_tile_matmul(const CpuKernelArgs& a);

namespace {

// Fewer columns than this: AVX-512's register tiles are as fast (measured, bench_cpu_kernels).
constexpr int64_t kMinCols = 16;
constexpr int kTokens = kAmxTokens;

// Tile 0: A, the pass's mt tokens x one unit of U int8; 1, 2: B, panel rows 0..15 / 16..31;
// C for rows 0..15 / 16..31 in 3, 4 for even units and 5, 6 for odd ones. A unit's C tiles are
// zeroed, multiplied into and stored while the previous unit's are still being stored: with
// one set, each unit waited for the last one's stores (measured: 16-token passes with two sets
// and the epilogue two units behind, 1.5x the 32-token passes with one set of four C tiles).
void configure_tiles(int mt, int unit) {
    TileConfig c;
    c.set(0, mt, unit);
    c.set(1, unit / 4, 64), c.set(2, unit / 4, 64);
    for (int t = 3; t < 7; ++t) c.set(t, mt, 64);
    load_tile_config(c);
}

using Acc = float[kAmxRows];

// acc[m] += the panel's first `units` units . token m's, for the mt tokens whose staged blocks
// (T::Act) start at x0 (token m at x0 + m * col_bytes). The tiles must be configured for mt.
template <typename T>
void tile_pass(const AmxPanel& p, int units, const uint8_t* x0, size_t col_bytes, int mt, Acc* acc) {
    using Act = typename T::Act;
    constexpr int kUnitBytes = kAmxRows * T::kUnit;
    alignas(64) int32_t c[3][2][256];  // three units' C tiles (rows 0..15, 16..31), 16 x 16 int32 each
    const auto stride = static_cast<long>(col_bytes);
    const auto act = [&](int m, int blk) {
        return reinterpret_cast<const Act*>(x0 + static_cast<size_t>(m) * col_bytes) + blk;
    };
    // K-quants: the units of a block share d_x, so their sums gather without it in bacc and
    // meet d_x (and the mins) once per block.
    alignas(64) Acc bacc[T::kUnits > 1 ? kTokens : 1];
    const auto epilogue = [&](int u) {
        const int32_t(*cu)[256] = c[u % 3];
        const int blk = u / T::kUnits, s = u % T::kUnits;
        const float* du = p.d + u * kAmxRows;
        const __m512 d0 = _mm512_load_ps(du), d1 = _mm512_load_ps(du + 16);
        for (int m = 0; m < mt; ++m) {
            const Act* xb = act(m, blk);
            const __m512 i0 = _mm512_maskz_cvtepi32_ps(kAll, _mm512_load_si512(cu[0] + m * 16));
            const __m512 i1 = _mm512_maskz_cvtepi32_ps(kAll, _mm512_load_si512(cu[1] + m * 16));
            if constexpr (T::kUnits == 1) {
                const __m512 dx = _mm512_set1_ps(xb->d);
                __m512 a0 = _mm512_fmadd_ps(i0, _mm512_mul_ps(d0, dx), _mm512_load_ps(acc[m]));
                __m512 a1 = _mm512_fmadd_ps(i1, _mm512_mul_ps(d1, dx), _mm512_load_ps(acc[m] + 16));
                if constexpr (T::kMins) {  // Q4_1 / Q5_1
                    const __m512 xs = _mm512_set1_ps(xb->ds);
                    a0 = _mm512_fmadd_ps(_mm512_load_ps(p.m + u * kAmxRows), xs, a0);
                    a1 = _mm512_fmadd_ps(_mm512_load_ps(p.m + u * kAmxRows + 16), xs, a1);
                }
                _mm512_store_ps(acc[m], a0), _mm512_store_ps(acc[m] + 16, a1);
            } else {
                __m512 b0 = _mm512_mul_ps(i0, d0), b1 = _mm512_mul_ps(i1, d1);
                if (s > 0) b0 = _mm512_add_ps(b0, _mm512_load_ps(bacc[m])), b1 = _mm512_add_ps(b1, _mm512_load_ps(bacc[m] + 16));
                if (s < T::kUnits - 1) {
                    _mm512_store_ps(bacc[m], b0), _mm512_store_ps(bacc[m] + 16, b1);
                    continue;
                }
                const __m512 dx = _mm512_set1_ps(xb->d);
                __m512 a0 = _mm512_fmadd_ps(b0, dx, _mm512_load_ps(acc[m]));
                __m512 a1 = _mm512_fmadd_ps(b1, dx, _mm512_load_ps(acc[m] + 16));
                if constexpr (T::kMins) {  // Q4_K / Q5_K: the eight mins . d_x * sub-block sums of x_q
                    alignas(32) float xs[8];
                    const __m256i sums = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb->bsums)),
                                                           _mm256_set1_epi16(1));
                    _mm256_store_ps(xs, _mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(xb->d)));
                    for (int g = 0; g < 8; ++g) {
                        const float* ms = p.m + (blk * 8 + g) * kAmxRows;
                        const __m512 x = _mm512_set1_ps(xs[g]);
                        a0 = _mm512_fmadd_ps(_mm512_load_ps(ms), x, a0);
                        a1 = _mm512_fmadd_ps(_mm512_load_ps(ms + 16), x, a1);
                    }
                }
                _mm512_store_ps(acc[m], a0), _mm512_store_ps(acc[m] + 16, a1);
            }
        }
    };
    for (int u = 0; u < units; ++u) {
        const int blk = u / T::kUnits, s = u % T::kUnits;
        const uint8_t* xq = x0 + static_cast<size_t>(blk) * sizeof(Act) + offsetof(Act, qs) + s * T::kUnit;
        const int8_t* bq = p.q + u * kUnitBytes;
        int32_t(*cu)[256] = c[u % 3];
        _tile_loadd(1, bq, 64);
        _tile_loadd(2, bq + kUnitBytes / 2, 64);
        _tile_loadd(0, xq, stride);
        // The two C-tile sets are spelled out: GCC's _tile_* macros paste the tile number into
        // the asm, so it cannot be a template or function parameter.
        if (u & 1) {
            _tile_zero(5);
            _tile_zero(6);
            _tile_dpbssd(5, 0, 1);
            _tile_dpbssd(6, 0, 2);
            _tile_stored(5, cu[0], 64);
            _tile_stored(6, cu[1], 64);
        } else {
            _tile_zero(3);
            _tile_zero(4);
            _tile_dpbssd(3, 0, 1);
            _tile_dpbssd(4, 0, 2);
            _tile_stored(3, cu[0], 64);
            _tile_stored(4, cu[1], 64);
        }
        if (u >= 2) epilogue(u - 2);
    }
    for (int u = units >= 2 ? units - 2 : 0; u < units; ++u) epilogue(u);
}

// Phase 2 on tiles: each thread takes whole 32-row panels (or, with fewer panels than threads,
// all panels for a share of the 16-token passes); per panel, k in chunks of kAmxPanelElems,
// each decoded once and used for every pass.
template <typename T>
void tile_matmul(const CpuKernelArgs& a) {
    const Tensor& W = src(a, 0);
    const int64_t k = W.ne[0], n = W.ne[1], cols = src(a, 1).n_rows(), nblk = k / T::kElems;
    constexpr int kChunkBlocks = kAmxPanelElems / T::kElems;
    const uint8_t* wbase = src_data(a, 0);
    auto* y = reinterpret_cast<float*>(dst_data(a));
    const size_t col_bytes = matmul_act_col_bytes(W.type, k);
    const AmxShare mine = amx_share(n, cols, a.ith, a.nth);
    if (mine.empty()) return;
    const Range pr = mine.panels, tr = mine.passes;

    AmxPanel panel;
    alignas(64) Acc acc[kTokens];
    int configured = 0;  // the pass size the tiles are configured for
    for (int64_t p = pr.begin; p < pr.end; ++p) {
        const int64_t r0 = p * kAmxRows;
        const int nr = static_cast<int>(imin(kAmxRows, n - r0));
        const __mmask16 k0 = first_lanes(nr), k1 = first_lanes(nr - 16);
        for (int64_t j0 = 0; j0 < nblk; j0 += kChunkBlocks) {
            const int nb = static_cast<int>(imin(kChunkBlocks, nblk - j0));
            amx_fill_panel<T>(wbase + static_cast<uint64_t>(r0) * W.nb[1], W.nb[1], nr, j0, nb, panel);
            for (int64_t t = tr.begin; t < tr.end; ++t) {
                const int64_t c0 = t * kTokens;
                const int mt = static_cast<int>(imin(kTokens, cols - c0));
                if (mt != configured) configure_tiles(mt, T::kUnit), configured = mt;
                std::memset(acc, 0, sizeof(Acc) * static_cast<size_t>(mt));
                const uint8_t* x0 = a.staged_x + static_cast<size_t>(c0) * col_bytes +
                                    static_cast<size_t>(j0) * sizeof(typename T::Act);
                tile_pass<T>(panel, nb * T::kUnits, x0, col_bytes, mt, acc);
                for (int m = 0; m < mt; ++m) {
                    float* yr = y + (c0 + m) * n + r0;
                    __m512 v0 = _mm512_load_ps(acc[m]), v1 = _mm512_load_ps(acc[m] + 16);
                    if (j0 > 0) {
                        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, yr));
                        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, yr + 16));
                    }
                    _mm512_mask_storeu_ps(yr, k0, v0);
                    _mm512_mask_storeu_ps(yr + 16, k1, v1);
                }
            }
        }
    }
    _tile_release();  // so the kernel's threads hold no tile state between nodes
}

// F16 / BF16 weights on bf16 tiles (amx_float.cpp), in units of 32 elements.
bool float_tile_path(DType w, int64_t k, int64_t cols) {
    return cols >= kMinCols && (w == DType::F16 || w == DType::BF16) && k % 32 == 0;
}

bool tile_path(DType w, int64_t cols) {
    return cols >= kMinCols && (is_legacy_quant(w) || w == DType::Q4_K || w == DType::Q5_K || w == DType::Q6_K);
}

}  // namespace

void matmul(const CpuKernelArgs& a) {
    const DType w = src(a, 0).type;
    if (float_tile_path(w, src(a, 0).ne[0], src(a, 1).n_rows())) {
        stage_bf16_split(a);
        return float_tile_matmul(a);
    }
    if (!tile_path(w, src(a, 1).n_rows())) return avx512::matmul(a);
    avx512::stage_matmul_x(a, /*interleaved=*/false);
    switch (w) {
        case DType::Q4_0: return tile_matmul<AmxType<BlockQ4_0>>(a);
        case DType::Q4_1: return tile_matmul<AmxType<BlockQ4_1>>(a);
        case DType::Q5_0: return tile_matmul<AmxType<BlockQ5_0>>(a);
        case DType::Q5_1: return tile_matmul<AmxType<BlockQ5_1>>(a);
        case DType::Q8_0: return tile_matmul<AmxType<BlockQ8_0>>(a);
        case DType::IQ4_NL: return tile_matmul<AmxType<BlockIQ4_NL>>(a);
        case DType::Q4_K: return tile_matmul<AmxType<BlockQ4_K>>(a);
        case DType::Q5_K: return tile_matmul<AmxType<BlockQ5_K>>(a);
        case DType::Q6_K: return tile_matmul<AmxType<BlockQ6_K>>(a);
        default: return;  // tile_path admits only the types above
    }
}

int matmul_staged_format(const Tensor& w, const Tensor& x) {
    if (float_tile_path(w.type, w.ne[0], x.n_rows())) return 8;  // bf16 x_hi, x_lo
    if (!tile_path(w.type, x.n_rows())) return avx512::matmul_staged_format(w, x);
    if (is_kquant(w.type)) return 2;  // plain Q8_K blocks
    return 4 + (w.type == DType::Q4_1 || w.type == DType::Q5_1 ? 1 : 0);  // plain Q8A blocks
}

const CpuKernelTable& kernel_table() {
    static const CpuKernelTable table = [] {
        CpuKernelTable t = avx512::kernel_table();
        t.op[static_cast<int>(Op::MatMul)] = matmul;
        t.matmul_staged_format = matmul_staged_format;
        return t;
    }();
    return table;
}

}  // namespace amx
}  // namespace kiln::cpu
