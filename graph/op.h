#pragma once
// The closed set of operations a graph node can perform. An op records only what it is, its
// inputs and a few parameters; every backend implements it separately and answers
// `supports(node)`. What tools and backends share about an op (name, family, cross-check
// threshold, work model) is in graph/op_traits.h; its scalar reference is in graph/reference/.
#include <array>
#include <cstdint>
#include <string_view>

#include "graph/tensor.h"

namespace kiln {

// Shapes below use ggml's order: [ne0, ne1, ...], ne0 contiguous.
enum class Op : uint8_t {
    GetRows,    // table [n, rows, b] any dtype, ids I32 [m, b]    -> f32 [n, m, b] (b = 1: an embedding lookup)
    Add,        // a [n, ...] + b, b broadcast over a's dims         -> f32 like a
    Mul,        // a * b, b broadcast                                -> f32 like a
    Scale,      // a * params.scale                                  -> f32 like a
    RmsNorm,    // a / sqrt(mean(a^2) + eps) per row                 -> f32 like a
    Norm,       // (a - mean) / sqrt(var + eps) per row              -> f32 like a
    MatMul,     // w [k, n] any dtype, x [k, m, ...] f32             -> f32 [n, m, ...]
    MulMatId,   // w [k, n, experts] any dtype, x [k, 1 or used, t] f32, ids I32 [used, t]
                //   -> f32 [n, used, t]: column (i, t) times expert ids[i, t] (mixture of experts)
    Rope,       // x [d, heads, tokens], pos I32 [tokens], factors f32 [n_dims/2] optional -> f32 like x
    Softmax,    // softmax(a * scale + mask) per row, mask optional  -> f32 like a
    FlashAttn,  // q [d, hq, t], k [d, hkv, kv], v [dv, hkv, kv], pos I32 [t] -> f32 [dv, hq, t]
    Silu,       // a * sigmoid(a)
    Gelu,       // tanh approximation, as GPT-2 and llama.cpp use
    Sigmoid,    // 1 / (1 + exp(-a)): Qwen2-MoE's shared-expert gate
    SwiGLU,     // silu(gate) * up
    Copy,       // dst = convert(a); dst is an existing tensor (often a view)
    SetRows,    // dst[:, ids[i]] = convert(a[:, i]); writes the KV cache
    Concat,     // a and b joined along params.dim
    TopK,       // indices of the params.k largest values per row, largest first -> I32 [k, rows...]
    Argmax,     // index of the largest value per row              -> I32 [1, rows...]
};
constexpr int kOpCount = static_cast<int>(Op::Argmax) + 1;  // Argmax stays last

std::string_view op_name(Op op);  // op_traits(op).name

enum class RopeMode : uint8_t {
    Normal,  // rotates pairs (x[2i], x[2i+1]) — LLaMA as converted to GGUF
    Neox,    // rotates pairs (x[i], x[i + d/2]) — GPT-NeoX, Qwen
};

struct RopeParams {
    RopeMode mode = RopeMode::Normal;
    int32_t n_dims = 0;         // leading dimensions rotated; the rest pass through
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;    // linear position scaling: angle = pos * freq_scale * base^(-2i/n_dims)
                                // (divided by factors[i] when the node has a frequency-factor input)
};

struct OpParams {
    float eps = 0.0f;      // RmsNorm, Norm
    float scale = 1.0f;    // Scale, Softmax, FlashAttn
    int32_t dim = 0;       // Concat
    int32_t k = 0;         // TopK
    bool causal = true;    // FlashAttn: key j is visible to query i when j <= pos[i]
    int32_t window = 0;    // FlashAttn, causal: when > 0, also only when j > pos[i] - window
    RopeParams rope;       // Rope
};

constexpr int kMaxSrc = 4;

constexpr int kNoLayer = -1;

struct Node {
    Op op;
    std::array<TensorId, kMaxSrc> src{kNoTensor, kNoTensor, kNoTensor, kNoTensor};
    TensorId dst = kNoTensor;
    OpParams params;
    // The model layer the node belongs to (Graph::set_layer), or kNoLayer for the input
    // embedding and the output head: placement puts the first N layers on a device.
    int32_t layer = kNoLayer;
};

}  // namespace kiln
