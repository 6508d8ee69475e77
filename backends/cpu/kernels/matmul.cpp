// MatMul: y[n, cols] = W[k, n]^T x[k, cols]. Two phases per node:
//   1. quantized weights: every thread quantizes a share of x's blocks into scratch (Q8A blocks
//      for the 32-element types, Q8_K for the K-quants); float weights with f16/bf16 x: x is
//      widened to f32 in scratch. Then all threads meet at the barrier. Skipped when the graph's
//      plan says an earlier matmul staged the same x in the same format (staged_x_ready).
//   2. each thread computes a share of the weight rows (so in a matvec every thread streams
//      distinct weights) with register tiles (tile.h: up to 4 rows x 4 columns per call) where
//      the ISA has them for the type, else row dots (quant_dot.h: a row decoded once and dotted
//      with up to 4 activation columns while it is in registers/L1).
#include "backends/cpu/kernels/float_tile.h"
#include "backends/cpu/kernels/kernels_isa.h"
#include "backends/cpu/kernels/kquant_tile.h"
#include "backends/cpu/kernels/pair_tile.h"
#include "backends/cpu/kernels/quant_dot.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int kMaxCols = 4;
// Weight rows per tile: about this many bytes, so a tile stays in L2 while each group of 4
// activation columns (the larger stream: 4 x 40 bytes per weight block) is read from L1.
constexpr uint64_t kRowTileBytes = 64 * 1024;

// ---------------------------------------------------------------- dispatch
using RowDotFn = void (*)(const void* w, int64_t n, const void* const* x, float* out);

// Adapts a typed dot (x as `const X* const*`) to RowDotFn.
template <typename X, int NC, void (*F)(const void*, int64_t, const X* const*, float*)>
void adapt(const void* w, int64_t n, const void* const* vx, float* out) {
    const X* x[NC];
    for (int c = 0; c < NC; ++c) x[c] = static_cast<const X*>(vx[c]);
    F(w, n, x, out);
}

struct RowDot {
    RowDotFn f[kMaxCols];  // f[nc - 1] handles nc columns
};

#define KILN_ROWDOT(X, FN) RowDot{{adapt<X, 1, FN<1>>, adapt<X, 2, FN<2>>, adapt<X, 3, FN<3>>, adapt<X, 4, FN<4>>}}

// Row dots of the quantized types (float weights only have tiles); nullptr for other dtypes.
const RowDot* row_dot(DType t) {
    static const RowDot q4_0 = KILN_ROWDOT(BlockQ8A, dot_q4_0),
                        q4_1 = KILN_ROWDOT(BlockQ8A, dot_q4_1), q5_0 = KILN_ROWDOT(BlockQ8A, dot_q5_0),
                        q5_1 = KILN_ROWDOT(BlockQ8A, dot_q5_1), q8_0 = KILN_ROWDOT(BlockQ8A, dot_q8_0),
                        iq4_nl = KILN_ROWDOT(BlockQ8A, dot_iq4_nl), q2_k = KILN_ROWDOT(BlockQ8_K, dot_q2_k),
                        q3_k = KILN_ROWDOT(BlockQ8_K, dot_q3_k), q4_k = KILN_ROWDOT(BlockQ8_K, dot_q4_k),
                        q5_k = KILN_ROWDOT(BlockQ8_K, dot_q5_k), q6_k = KILN_ROWDOT(BlockQ8_K, dot_q6_k);
    switch (t) {
        case DType::Q4_0: return &q4_0;
        case DType::Q4_1: return &q4_1;
        case DType::Q5_0: return &q5_0;
        case DType::Q5_1: return &q5_1;
        case DType::Q8_0: return &q8_0;
        case DType::IQ4_NL: return &iq4_nl;
        case DType::Q2_K: return &q2_k;
        case DType::Q3_K: return &q3_k;
        case DType::Q4_K: return &q4_k;
        case DType::Q5_K: return &q5_k;
        case DType::Q6_K: return &q6_k;
        default: return nullptr;
    }
}
#undef KILN_ROWDOT

// Phase 1 for quantized weights: blocks [begin, end) of the cols x nbc grid of x blocks.
// `interleaved`: the tiles' orders (K-quants: quantize_act_q8k; 32-element types: whole quads of
// BlockQ8A4, then BlockQ8A).
void quantize_x(const Tensor& X, uint8_t* xbase, DType wtype, bool kq, bool interleaved, int64_t nbc,
                size_t col_bytes, uint8_t* scratch, Range r) {
    const int64_t nquad = interleaved && !kq ? nbc / 4 : 0;
    const bool q8_1_sums = wtype == DType::Q4_1 || wtype == DType::Q5_1;
    const int64_t qb = kq ? kQK_K : kQK;
    float tmp[kQK_K];
    for (int64_t b = r.begin; b < r.end;) {
        const int64_t col = b / nbc, j0 = b % nbc;
        const int64_t run = imin(r.end - b, nbc - j0);
        const uint8_t* xr = flat_row(X, xbase, col);
        uint8_t* out = scratch + static_cast<size_t>(col) * col_bytes;
        for (int64_t j = j0; j < j0 + run; ++j) {
            const size_t esize = X.type == DType::F32 ? 4 : 2;
            const float* xf = floats(X.type, xr + static_cast<size_t>(j * qb) * esize, qb, tmp);
            if (kq) quantize_act_q8k(xf, reinterpret_cast<BlockQ8_K*>(out) + j, 1, interleaved);
            else if (j < 4 * nquad) quantize_act_q8a_quad(xf, reinterpret_cast<BlockQ8A4*>(out) + j / 4, static_cast<int>(j % 4), q8_1_sums);
            else quantize_act_q8a(xf, reinterpret_cast<BlockQ8A*>(out) + j, 1, q8_1_sums);
        }
        b += run;
    }
}

// Register tiles where this ISA has them for the type, else nullptr (row dots).
const Tiles* tiles_of(DType t) {
#if defined(KILN_CPU_PAIR_DOTS)
    if (const Tiles* p = pair_tiles(t)) return p;
    if (const Tiles* p = kquant_tiles(t)) return p;
#endif
    return float_tiles(t);
}

}  // namespace

bool matmul_supported(DType w) { return tiles_of(w) != nullptr || row_dot(w) != nullptr; }

int matmul_staged_format(const Tensor& W, const Tensor& X) {
    const DType w = W.type;
    const bool kq = is_kquant(w), interleaved = tiles_of(w) != nullptr;
    if (kq) return interleaved ? 3 : 2;
    if (is_legacy_quant(w)) return 4 + (interleaved ? 2 : 0) + (w == DType::Q4_1 || w == DType::Q5_1 ? 1 : 0);
    return X.type == DType::F32 ? 0 : 1;  // float weights: f16/bf16 x widened to f32, f32 x read in place
}

namespace {

// Phase 1 into `dest` (every column of X), then the node's threads meet; false (and no barrier)
// when x is read in place (f32 x, float weights).
bool stage_x(const CpuKernelArgs& a, const Tensor& W, const Tensor& X, uint8_t* dest, bool interleaved) {
    const int64_t k = W.ne[0], cols = X.n_rows();
    uint8_t* xbase = a.data[a.node->src[1]];
    const bool kq = is_kquant(W.type), quant = kq || is_legacy_quant(W.type);
    const size_t col_bytes = matmul_act_col_bytes(W.type, k);
    if (!(quant || X.type != DType::F32)) return false;
    if (quant) {
        const int64_t nblk = k / (kq ? kQK_K : kQK);
        quantize_x(X, xbase, W.type, kq, interleaved, nblk, col_bytes, dest, share(cols * nblk, a.ith, a.nth));
    } else {
        const Range r = share(cols, a.ith, a.nth);
        for (int64_t c = r.begin; c < r.end; ++c) {
            auto* out = reinterpret_cast<float*>(dest + static_cast<size_t>(c) * col_bytes);
            const float* f = floats(X.type, flat_row(X, xbase, c), k, out);
            if (f != out) std::memcpy(out, f, static_cast<size_t>(k) * sizeof(float));
        }
    }
    a.barrier->wait();
    return true;
}

}  // namespace

void stage_matmul_x(const CpuKernelArgs& a, bool interleaved) {
    if (!a.staged_x_ready) stage_x(a, src(a, 0), src(a, 1), a.staged_x, interleaved);
}

void matmul(const CpuKernelArgs& a) {
    const Tensor& W = src(a, 0);
    const Tensor& X = src(a, 1);
    const int64_t k = W.ne[0], n = W.ne[1], cols = X.n_rows();
    uint8_t* wbase = src_data(a, 0);
    uint8_t* xbase = src_data(a, 1);
    auto* y = reinterpret_cast<float*>(dst_data(a));
    const bool kq = is_kquant(W.type), quant = kq || is_legacy_quant(W.type);
    const int64_t nblk = quant ? k / (kq ? kQK_K : kQK) : k;  // the `n` each row dot takes
    const size_t col_bytes = matmul_act_col_bytes(W.type, k);
    const bool staged = quant || X.type != DType::F32;

    // Phase 1: activations into scratch (the tiles read them in their interleaved orders,
    // kquant_tile.h, pair_tile.h), unless an earlier matmul left the same ones there.
    stage_matmul_x(a, tiles_of(W.type) != nullptr);
    const auto column = [&](int64_t c) -> const void* {
        if (staged) return a.staged_x + static_cast<size_t>(c) * col_bytes;
        return flat_row(X, xbase, c);
    };

    // Phase 2: split weight rows (every thread streams its own weights) unless there are too few.
    const bool split_rows = n >= 4 * a.nth || cols < a.nth;
    const Range rr = split_rows ? share(n, a.ith, a.nth) : Range{0, n};
    const Range cr = split_rows ? Range{0, cols} : share(cols, a.ith, a.nth);
    const int64_t tile = imax(1, static_cast<int64_t>(kRowTileBytes / W.nb[1]));
    const void* xs[kMaxCols];
    if (const Tiles* t = tiles_of(W.type)) {
        // Register tiles (tile.h) of up to t->rows rows x 4 columns.
        for (int64_t r0 = rr.begin; r0 < rr.end; r0 += tile) {
            const int64_t r1 = imin(r0 + tile, rr.end);
            for (int64_t c0 = cr.begin; c0 < cr.end; c0 += kMaxCols) {
                const int nc = static_cast<int>(imin(kMaxCols, cr.end - c0));
                for (int q = 0; q < nc; ++q) xs[q] = column(c0 + q);
                // A matvec walks one row at a time: interleaving several rows' streams measured
                // up to 2x slower once the weights come from DRAM (the prefetchers lose track).
                const int rows_max = cols == 1 ? 1 : t->rows;
                for (int64_t r = r0; r < r1; r += rows_max) {
                    const int nr = static_cast<int>(imin(rows_max, r1 - r));
                    t->f[nr - 1][nc - 1](wbase + static_cast<uint64_t>(r) * W.nb[1], W.nb[1], nblk, xs, y + c0 * n + r, n);
                }
            }
        }
        return;
    }
    const RowDot& dot = *row_dot(W.type);
    for (int64_t r0 = rr.begin; r0 < rr.end; r0 += tile) {
        const int64_t r1 = imin(r0 + tile, rr.end);
        for (int64_t c0 = cr.begin; c0 < cr.end; c0 += kMaxCols) {
            const int nc = static_cast<int>(imin(kMaxCols, cr.end - c0));
            for (int q = 0; q < nc; ++q) xs[q] = column(c0 + q);
            for (int64_t r = r0; r < r1; ++r) {
                float o[kMaxCols];
                dot.f[nc - 1](wbase + static_cast<uint64_t>(r) * W.nb[1], nblk, xs, o);
                for (int q = 0; q < nc; ++q) y[(c0 + q) * n + r] = o[q];
            }
        }
    }
}

// MulMatId: y[:, i, t] = W_e^T x[:, i or 0, t] with e = ids[i, t]. x is staged once (phase 1, in
// the node's scratch); then the (slot, token) columns are grouped by expert and every thread
// computes its share of the weight rows of each chosen expert for all of that expert's columns,
// so each chosen expert's rows are read once per step and unchosen experts not at all.
void mul_mat_id(const CpuKernelArgs& a) {
    const Tensor& W = src(a, 0);
    const Tensor& X = src(a, 1);
    const Tensor& I = src(a, 2);
    const int64_t k = W.ne[0], n = W.ne[1], experts = W.ne[2], used = I.ne[0], columns = I.n_elements();
    const auto* ids = reinterpret_cast<const int32_t*>(src_data(a, 2));
    auto* y = reinterpret_cast<float*>(dst_data(a));
    const MulMatIdScratch lay = mul_mat_id_scratch(W, X, I);
    auto* tmp = reinterpret_cast<float*>(a.scratch + lay.staged + static_cast<size_t>(a.ith) * lay.per_thread);
    int32_t* order = reinterpret_cast<int32_t*>(tmp + kMaxCols * kMulMatIdRows);
    int32_t* start = order + columns;  // experts + 2 bucket starts (the last bucket: ids out of range)

    const Tiles* tiles = tiles_of(W.type);
    const bool staged = stage_x(a, W, X, a.scratch, tiles != nullptr);
    const bool quant = is_kquant(W.type) || is_legacy_quant(W.type);
    const int64_t nblk = quant ? k / (is_kquant(W.type) ? kQK_K : kQK) : k;
    const size_t col_bytes = matmul_act_col_bytes(W.type, k);

    // Columns by expert (a counting sort every thread does alike: a handful per token).
    const auto bucket = [&](int64_t c) { return ids[c] >= 0 && ids[c] < experts ? ids[c] : experts; };
    for (int64_t e = 0; e <= experts + 1; ++e) start[e] = 0;
    for (int64_t c = 0; c < columns; ++c) ++start[bucket(c) + 1];
    for (int64_t e = 0; e <= experts; ++e) start[e + 1] += start[e];
    for (int64_t c = 0; c < columns; ++c) order[start[bucket(c)]++] = static_cast<int32_t>(c);
    for (int64_t e = experts; e > 0; --e) start[e] = start[e - 1];
    start[0] = 0;

    const Range rr = share(n, a.ith, a.nth);
    for (int64_t j = start[experts]; j < columns; ++j) {  // no such expert: zeros
        for (int64_t r = rr.begin; r < rr.end; ++r) y[order[j] * n + r] = 0.0f;
    }
    const int64_t tile = imax(1, imin(kMulMatIdRows, static_cast<int64_t>(kRowTileBytes / W.nb[1])));
    const void* xs[kMaxCols];
    for (int64_t e = 0; e < experts; ++e) {
        const int64_t first = start[e], count = start[e + 1] - first;
        if (count == 0) continue;
        const uint8_t* we = src_data(a, 0) + static_cast<uint64_t>(e) * W.nb[2];
        for (int64_t r0 = rr.begin; r0 < rr.end; r0 += tile) {
            const int64_t r1 = imin(r0 + tile, rr.end);
            for (int64_t j0 = first; j0 < first + count; j0 += kMaxCols) {
                const int nc = static_cast<int>(imin(kMaxCols, first + count - j0));
                for (int q = 0; q < nc; ++q) {
                    const int64_t c = order[j0 + q];
                    const int64_t xcol = (X.ne[1] == 1 ? 0 : c % used) + (c / used) * X.ne[1];
                    xs[q] = staged ? a.scratch + static_cast<size_t>(xcol) * col_bytes : flat_row(X, src_data(a, 1), xcol);
                }
                if (tiles) {
                    const int rows_max = count == 1 ? 1 : tiles->rows;
                    for (int64_t r = r0; r < r1; r += rows_max) {
                        const int nr = static_cast<int>(imin(rows_max, r1 - r));
                        tiles->f[nr - 1][nc - 1](we + static_cast<uint64_t>(r) * W.nb[1], W.nb[1], nblk, xs, tmp + (r - r0), tile);
                    }
                } else {
                    const RowDot& dot = *row_dot(W.type);
                    for (int64_t r = r0; r < r1; ++r) {
                        float o[kMaxCols];
                        dot.f[nc - 1](we + static_cast<uint64_t>(r) * W.nb[1], nblk, xs, o);
                        for (int q = 0; q < nc; ++q) tmp[q * tile + (r - r0)] = o[q];
                    }
                }
                for (int q = 0; q < nc; ++q) {
                    float* out = y + static_cast<int64_t>(order[j0 + q]) * n;
                    for (int64_t r = r0; r < r1; ++r) out[r] = tmp[q * tile + (r - r0)];
                }
            }
        }
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
