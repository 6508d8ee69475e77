#pragma once
// How much scratch each kernel uses, shared by kernel_table.cpp (which sizes the buffer) and the
// kernels (which carve it). Functions have internal linkage so each ISA's translation units get
// their own copy (no weak symbol compiled for another ISA).
#include <cstddef>
#include <cstdint>

#include "graph/op_traits.h"
#include "graph/quant/blocks.h"

namespace kiln::cpu {

// Activations of a legacy-quant matmul: 32 values as int8 codes with an f32 scale, plus
// ds = d * sum(codes) so affine weights (Q4_1, Q5_1) and offset codes (q - 8) cost one multiply.
struct BlockQ8A {
    float d;
    float ds;
    int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8A) == 40);

// Four BlockQ8A in the order of the block-quad tiles (pair_tile.h, simd_blocks.h quads): codes 0..15 of
// block b at qs[16b..], codes 16..31 at qs[64 + 16b..]. Same size as four BlockQ8A, so a column
// is whole quads followed by the remaining (k / 32) % 4 blocks as BlockQ8A.
struct BlockQ8A4 {
    float d[4];
    float ds[4];
    int8_t qs[4 * kQK];
};
static_assert(sizeof(BlockQ8A4) == 4 * sizeof(BlockQ8A));

constexpr int kAttnTile = 64;  // keys scored per step of the online softmax
constexpr int kMaxAttnGroup = 64;  // query heads per KV head handled on the f16-cache path
constexpr int64_t kMaxAttnTokenBlock = 16;  // query tokens sharing a key tile (f16-cache path)

namespace {

inline size_t scratch_align(size_t bytes) { return (bytes + 63) / 64 * 64; }

inline bool is_kquant(DType t) {
    return t == DType::Q2_K || t == DType::Q3_K || t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K;
}

inline bool is_legacy_quant(DType t) {
    return t == DType::Q4_0 || t == DType::Q4_1 || t == DType::Q5_0 || t == DType::Q5_1 || t == DType::Q8_0 ||
           t == DType::IQ4_NL;
}

// Bytes of one staged activation column of k values for weights of type w.
inline size_t matmul_act_col_bytes(DType w, int64_t k) {
    if (is_kquant(w)) return static_cast<size_t>(k / kQK_K) * sizeof(BlockQ8_K);
    if (is_legacy_quant(w)) return static_cast<size_t>(k / kQK) * sizeof(BlockQ8A);
    return static_cast<size_t>(k) * sizeof(float);  // float weights: x as f32, or as bf16 hi + lo (amx)
}

// Query tokens per unit of the f16-cache attention path for n_tok tokens: enough to share each
// transposed key tile, few enough that their accumulators stay small.
inline int64_t attn_token_block(int64_t group, int64_t n_tok) {
    const int64_t most = group >= 256 ? 1 : group > kMaxAttnTokenBlock ? 256 / group : kMaxAttnTokenBlock;
    return n_tok < most ? (n_tok > 0 ? n_tok : 1) : most;
}

// One thread's scratch on the f16-cache attention path (attention.cpp), for tb tokens of group
// query heads: the transposed key tile, a K or V row as f32, the scores (one spare row: the exp
// padding of the last head may run into it), and per token the heads' accumulators, f16-rounded
// queries, maxima and sums.
struct F16AttnScratch {
    float *kt, *kbuf, *s, *acc, *q16, *mx, *sum;
};

// Offsets in floats of F16AttnScratch's arrays; [7] is the total.
inline void f16_attn_offsets(int64_t group, int64_t d, int64_t dv, int64_t tb, int64_t* off) {
    const int64_t sizes[7] = {d * kAttnTile, d > dv ? d : dv, (group + 1) * kAttnTile, tb * group * dv,
                              tb * group * d, tb * group, tb * group};
    off[0] = 0;
    for (int i = 0; i < 7; ++i) off[i + 1] = off[i] + sizes[i];
}

inline int64_t f16_attn_floats(int64_t group, int64_t d, int64_t dv, int64_t tb) {
    int64_t off[8];
    f16_attn_offsets(group, d, dv, tb, off);
    return off[7];
}

inline F16AttnScratch f16_attn_scratch(float* base, int64_t group, int64_t d, int64_t dv, int64_t tb) {
    int64_t off[8];
    f16_attn_offsets(group, d, dv, tb, off);
    return {base + off[0], base + off[1], base + off[2], base + off[3], base + off[4], base + off[5], base + off[6]};
}

// Per-thread floats of the kernels that use private scratch.
inline size_t per_thread_floats(const Graph& g, const Node& n) {
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    const auto f = [](int64_t x) { return static_cast<size_t>(x); };
    switch (op_traits(n.op).family) {  // element-wise ops widen f16/bf16 rows into scratch
        case OpFamily::Unary: return f(a.ne[0]);
        case OpFamily::Binary: return f(a.ne[0] + g.tensor(n.src[1]).ne[0]);
        default: break;
    }
    switch (n.op) {
        case Op::FlashAttn: {
            const Tensor& k = g.tensor(n.src[1]);
            const Tensor& v = g.tensor(n.src[2]);
            const int64_t group = a.ne[1] / k.ne[1];
            if (k.type == DType::F16 && v.type == DType::F16 && group <= kMaxAttnGroup) {
                return f(f16_attn_floats(group, a.ne[0], v.ne[0], attn_token_block(group, a.ne[2])));
            }
            // acc, scores, max, sum; a K and a V row as f32.
            return f(group * (v.ne[0] + kAttnTile + 2) + a.ne[0] + v.ne[0]);
        }
        case Op::Rope: return f(n.params.rope.n_dims);  // cos and sin of each rotated pair (n_dims / 2 each)
        case Op::RmsNorm: case Op::Norm: return f(a.ne[0]);
        case Op::Softmax: return f(2 * a.ne[0]);
        case Op::Copy: return f(d.ne[0]);
        case Op::SetRows: return f(a.ne[0]);
        default: return 0;
    }
}

// Bytes of one thread's private slice.
inline size_t node_thread_bytes(const Graph& g, const Node& n) { return per_thread_floats(g, n) * sizeof(float); }

// MulMatId's scratch: every column of x staged (shared by the node's threads), then per thread
// an output tile of up to kMulMatIdRows rows x 4 columns and the columns sorted by expert.
constexpr int64_t kMulMatIdRows = 256;
struct MulMatIdScratch {
    size_t staged, per_thread;
};
inline MulMatIdScratch mul_mat_id_scratch(const Tensor& w, const Tensor& x, const Tensor& ids) {
    const size_t staged = scratch_align(matmul_act_col_bytes(w.type, w.ne[0]) * static_cast<size_t>(x.n_rows()));
    const auto ints = static_cast<size_t>(ids.n_elements() + w.ne[2] + 2);
    return {staged, scratch_align(4 * static_cast<size_t>(kMulMatIdRows) * sizeof(float) + ints * sizeof(int32_t))};
}

// Bytes of a node's ops scratch (a matmul has none: its staged x is in its own region, sized by
// cpu_scratch_layout from the kernel table's staging format).
inline size_t node_scratch_bytes(const Graph& g, const Node& n, int nth) {
    if (n.op == Op::MatMul) return 0;
    if (n.op == Op::MulMatId) {
        const MulMatIdScratch s = mul_mat_id_scratch(g.tensor(n.src[0]), g.tensor(n.src[1]), g.tensor(n.src[2]));
        return s.staged + s.per_thread * static_cast<size_t>(nth);
    }
    return scratch_align(node_thread_bytes(g, n)) * static_cast<size_t>(nth);
}

}  // namespace
}  // namespace kiln::cpu
