#pragma once
// Transformer blocks shared by the architecture builders: normalisation with a learned weight,
// grouped-query attention over the KV cache, and the SwiGLU feed-forward network.
#include "graph/graph.h"
#include "models/arch/architectures.h"
#include "models/hparams.h"

namespace kiln {

class Model;

// The weights of one attention block; biases and q/k norms are optional (kNoTensor).
struct AttentionWeights {
    TensorId wq = kNoTensor, wk = kNoTensor, wv = kNoTensor, wo = kNoTensor;
    TensorId bq = kNoTensor, bk = kNoTensor, bv = kNoTensor;
    TensorId q_norm = kNoTensor, k_norm = kNoTensor;  // per-head RMSNorm before RoPE (Qwen3)
};

struct BlockContext {
    Graph& g;
    const ModelHparams& hp;
    const GraphShape& shape;
    TensorId positions;
    TensorId rope_factors = kNoTensor;  // rope_freqs.weight (Llama 3.1 scaling), when the model has it
};

// rms_norm(x) * weight (weight broadcast over tokens).
TensorId rms_norm_weighted(Graph& g, TensorId x, TensorId weight, float eps);

// Attention for layer `layer`: projections, RoPE (when `rope` is set), the K/V written into this
// layer's cache at the tokens' positions, flash attention over the cache, output projection.
TensorId attention_block(BlockContext& c, int layer, TensorId x, const AttentionWeights& w, const RopeParams* rope);

// down(silu(gate(x)) * up(x)).
TensorId swiglu_ffn(Graph& g, TensorId x, TensorId gate, TensorId up, TensorId down);

// A mixture-of-experts FFN layer's weights (GGUF's names): the router, the experts' stacked
// matrices [in, out, experts], and Qwen2-MoE's shared expert with its sigmoid gate (optional).
struct MoeWeights {
    TensorId router = kNoTensor;  // ffn_gate_inp [n_embd, experts]
    TensorId gate_exps = kNoTensor, up_exps = kNoTensor, down_exps = kNoTensor;
    TensorId shared_gate = kNoTensor, shared_up = kNoTensor, shared_down = kNoTensor;
    TensorId shared_router = kNoTensor;  // ffn_gate_inp_shexp [n_embd]
};

// llama.cpp's MoE FFN (build_moe_ffn) for x [n_embd, T]: p = softmax(router . x); the `used`
// experts of largest p; their weights p (renormalize: divided by their sum, i.e. the softmax of
// the chosen logits); the weighted sum of the chosen experts' SwiGLU FFNs; plus
// sigmoid(shared_router . x) times the shared expert's FFN when there is one.
TensorId moe_ffn(Graph& g, TensorId x, const MoeWeights& w, int used, bool renormalize);

// The KV cache tensors' names, shared by every graph of a session (decode and prompt).
std::string kv_cache_name(const std::string& state_prefix, int layer, char which);

}  // namespace kiln
