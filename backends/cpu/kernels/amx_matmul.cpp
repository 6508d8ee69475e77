// The Amx kernel table: AVX-512's kernels, with prompt matmuls of the 32-element block types on
// Intel AMX tiles. Compiled once, with the AVX-512 flags plus AMX's, into kiln::cpu::amx.
//
// y = W^T x in 32-token x 32-row tiles: two A tiles hold one block (32 int8) of 16 tokens each,
// straight from the staged Q8A activations (the tile load's stride is the column stride), two B
// tiles one block of 16 weight rows each (amx_panel.h), and `tdpbssd` leaves four 16 x 16 int32
// dot products. Every block has its own weight and activation scale, so the int32 results go
// through memory into f32 accumulators block by block: acc += f32(dot) * d_w * d_x (+ m_w *
// d_x * sum(x_q) for Q4_1 / Q5_1). That epilogue is AVX-512 work; it runs one block behind the
// tile multiplies (two result buffers), so the two overlap.
//
// Batches of fewer than kMinCols columns (decode, small batches) and the types without a panel
// decoder take AVX-512's matmul, so AVX-512's matvec is what generation uses.
#include <immintrin.h>

#include <cstddef>
#include <type_traits>

#include "backends/cpu/kernels/amx_panel.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu {
namespace avx512 {
void matmul(const CpuKernelArgs& a);
int matmul_staged_format(DType w, DType x, int64_t cols);
void stage_matmul_x(const CpuKernelArgs& a, bool interleaved);
const CpuKernelTable& kernel_table();
}  // namespace avx512

namespace amx {
namespace {

// Fewer columns than this: AVX-512's register tiles are as fast (measured, bench_cpu_kernels).
constexpr int64_t kMinCols = 16;
constexpr int kTokens = 32;  // tokens per pass: two A tiles

struct alignas(64) TileConfig {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// Tiles 0, 1: A, tokens 0..15 / 16..31 of the pass (ma0 / ma1 rows of one block each);
// 2, 3: B, panel rows 0..15 / 16..31; 4..7: C = A0B0, A0B1, A1B0, A1B1.
void configure_tiles(int ma0, int ma1) {
    TileConfig c;
    c.rows[0] = static_cast<uint8_t>(ma0), c.colsb[0] = kQK;
    c.rows[1] = static_cast<uint8_t>(ma1), c.colsb[1] = ma1 ? kQK : 0;
    for (int t : {2, 3}) c.rows[t] = kQK / 4, c.colsb[t] = 64;
    for (int t : {4, 5}) c.rows[t] = static_cast<uint8_t>(ma0), c.colsb[t] = 64;
    for (int t : {6, 7}) c.rows[t] = static_cast<uint8_t>(ma1), c.colsb[t] = ma1 ? 64 : 0;
    // GCC 12 does not see that ldtilecfg reads the configuration and drops the stores above:
    // the pointer escapes into an empty asm that clobbers memory, so they happen first.
    asm volatile("" : : "r"(&c) : "memory");
    _tile_loadconfig(&c);
}

using Acc = float[kAmxRows];

// acc[m] += the panel's nb blocks . token m's, for the mt tokens whose staged blocks start at x0
// (token m at x0 + m * col_bytes). The tile configuration must be configure_tiles for mt.
template <bool Affine>
void tile_pass(const AmxPanel& p, int nb, const uint8_t* x0, size_t col_bytes, int mt, Acc* acc) {
    alignas(64) int32_t c[2][4][256];  // two blocks' C tiles, 16 x 16 int32 each
    const auto stride = static_cast<long>(col_bytes);
    const bool two = mt > 16;
    const auto epilogue = [&](int j) {
        const int32_t(*cj)[256] = c[j & 1];
        const __m512 d0 = _mm512_load_ps(p.d + j * kAmxRows), d1 = _mm512_load_ps(p.d + j * kAmxRows + 16);
        for (int m = 0; m < mt; ++m) {
            const auto* xb = reinterpret_cast<const BlockQ8A*>(x0 + static_cast<size_t>(m) * col_bytes) + j;
            const __m512 dx = _mm512_set1_ps(xb->d);
            const int32_t* c0 = cj[(m / 16) * 2] + (m % 16) * 16;
            const int32_t* c1 = cj[(m / 16) * 2 + 1] + (m % 16) * 16;
            __m512 a0 = _mm512_load_ps(acc[m]), a1 = _mm512_load_ps(acc[m] + 16);
            a0 = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_load_si512(c0)), _mm512_mul_ps(d0, dx), a0);
            a1 = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(kAll, _mm512_load_si512(c1)), _mm512_mul_ps(d1, dx), a1);
            if constexpr (Affine) {
                const __m512 s = _mm512_set1_ps(xb->ds);
                a0 = _mm512_fmadd_ps(_mm512_load_ps(p.m + j * kAmxRows), s, a0);
                a1 = _mm512_fmadd_ps(_mm512_load_ps(p.m + j * kAmxRows + 16), s, a1);
            }
            _mm512_store_ps(acc[m], a0), _mm512_store_ps(acc[m] + 16, a1);
        }
    };
    for (int j = 0; j < nb; ++j) {
        const uint8_t* xq = x0 + static_cast<size_t>(j) * sizeof(BlockQ8A) + offsetof(BlockQ8A, qs);
        const int8_t* bq = p.q + j * kAmxBlockBytes;
        int32_t(*cj)[256] = c[j & 1];
        _tile_loadd(2, bq, 64);
        _tile_loadd(3, bq + 512, 64);
        _tile_loadd(0, xq, stride);
        _tile_zero(4);
        _tile_zero(5);
        _tile_dpbssd(4, 0, 2);
        _tile_dpbssd(5, 0, 3);
        _tile_stored(4, cj[0], 64);
        _tile_stored(5, cj[1], 64);
        if (two) {
            _tile_loadd(1, xq + 16 * col_bytes, stride);
            _tile_zero(6);
            _tile_zero(7);
            _tile_dpbssd(6, 1, 2);
            _tile_dpbssd(7, 1, 3);
            _tile_stored(6, cj[2], 64);
            _tile_stored(7, cj[3], 64);
        }
        if (j > 0) epilogue(j - 1);
    }
    if (nb > 0) epilogue(nb - 1);
}

template <typename Block>
constexpr bool kAffine = std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>;

// Phase 2 on tiles: each thread takes whole 32-row panels (or, with fewer panels than threads,
// all panels for a share of the 32-token passes); per panel, k in chunks of kAmxPanelBlocks
// blocks, each decoded once and used for every pass.
template <typename Block>
void tile_matmul(const CpuKernelArgs& a) {
    const Tensor& W = src(a, 0);
    const int64_t k = W.ne[0], n = W.ne[1], cols = src(a, 1).n_rows(), nblk = k / kQK;
    const uint8_t* wbase = src_data(a, 0);
    auto* y = reinterpret_cast<float*>(dst_data(a));
    const size_t col_bytes = matmul_act_col_bytes(W.type, k);
    const int64_t panels = (n + kAmxRows - 1) / kAmxRows, passes = (cols + kTokens - 1) / kTokens;
    const bool split_panels = panels >= a.nth;
    const Range pr = split_panels ? share(panels, a.ith, a.nth) : Range{0, panels};
    const Range tr = split_panels ? Range{0, passes} : share(passes, a.ith, a.nth);
    if (pr.begin >= pr.end || tr.begin >= tr.end) return;

    AmxPanel panel;
    alignas(64) Acc acc[kTokens];
    int configured = 0;  // the pass size the tiles are configured for
    for (int64_t p = pr.begin; p < pr.end; ++p) {
        const int64_t r0 = p * kAmxRows;
        const int nr = static_cast<int>(imin(kAmxRows, n - r0));
        const __mmask16 k0 = static_cast<__mmask16>(nr >= 16 ? 0xffff : (1u << nr) - 1);
        const __mmask16 k1 = static_cast<__mmask16>(nr >= 32 ? 0xffff : nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
        for (int64_t j0 = 0; j0 < nblk; j0 += kAmxPanelBlocks) {
            const int nb = static_cast<int>(imin(kAmxPanelBlocks, nblk - j0));
            amx_fill_panel<Block>(wbase + static_cast<uint64_t>(r0) * W.nb[1], W.nb[1], nr, j0, nb, panel);
            for (int64_t t = tr.begin; t < tr.end; ++t) {
                const int64_t c0 = t * kTokens;
                const int mt = static_cast<int>(imin(kTokens, cols - c0));
                if (mt != configured) configure_tiles(mt < 16 ? mt : 16, mt > 16 ? mt - 16 : 0), configured = mt;
                std::memset(acc, 0, sizeof(Acc) * static_cast<size_t>(mt));
                const uint8_t* x0 = a.staged_x + static_cast<size_t>(c0) * col_bytes + static_cast<size_t>(j0) * sizeof(BlockQ8A);
                tile_pass<kAffine<Block>>(panel, nb, x0, col_bytes, mt, acc);
                for (int m = 0; m < mt; ++m) {
                    float* yr = y + (c0 + m) * n + r0;
                    __m512 v0 = _mm512_load_ps(acc[m]), v1 = _mm512_load_ps(acc[m] + 16);
                    if (j0 > 0) v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, yr)), v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, yr + 16));
                    _mm512_mask_storeu_ps(yr, k0, v0);
                    _mm512_mask_storeu_ps(yr + 16, k1, v1);
                }
            }
        }
    }
    _tile_release();  // so the kernel's threads hold no tile state between nodes
}

bool tile_path(DType w, int64_t cols) {
    return cols >= kMinCols && is_legacy_quant(w);
}

}  // namespace

void matmul(const CpuKernelArgs& a) {
    const DType w = src(a, 0).type;
    if (!tile_path(w, src(a, 1).n_rows())) return avx512::matmul(a);
    avx512::stage_matmul_x(a, /*interleaved=*/false);
    switch (w) {
        case DType::Q4_0: return tile_matmul<BlockQ4_0>(a);
        case DType::Q4_1: return tile_matmul<BlockQ4_1>(a);
        case DType::Q5_0: return tile_matmul<BlockQ5_0>(a);
        case DType::Q5_1: return tile_matmul<BlockQ5_1>(a);
        case DType::Q8_0: return tile_matmul<BlockQ8_0>(a);
        case DType::IQ4_NL: return tile_matmul<BlockIQ4_NL>(a);
        default: return;  // tile_path admits only the types above
    }
}

int matmul_staged_format(DType w, DType x, int64_t cols) {
    if (!tile_path(w, cols)) return avx512::matmul_staged_format(w, x, cols);
    return 4 + (w == DType::Q4_1 || w == DType::Q5_1 ? 1 : 0);  // plain Q8A blocks
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
