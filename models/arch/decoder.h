#pragma once
// The pre-norm decoder shared by the LLaMA family and its relatives: token embedding, N blocks of
// RMSNorm → attention (GQA over the KV cache) → residual → RMSNorm → SwiGLU → residual, final
// norm, output head (or the embedding, tied). What differs between architectures is captured by
// DecoderStyle; each architecture's file fills one in.
#include "models/arch/architectures.h"
#include "graph/op.h"

namespace kiln {

class Model;

struct DecoderStyle {
    RopeMode rope_mode = RopeMode::Normal;
    // Layer l gets no RoPE when nope_every > 0 and (l + 1) % nope_every == 0 (SmolLM3: 4).
    int nope_every = 0;
    bool qk_norm = false;  // per-head RMSNorm of q and k before RoPE (Qwen3)
    // Mixture-of-experts layers (when the model has experts): the chosen experts' weights divided
    // by their sum (Mixtral, Qwen3-MoE) or not (Qwen2-MoE); a shared expert (Qwen2-MoE).
    bool moe_renormalize = true;
    bool moe_shared_expert = false;
};

ModelGraph build_decoder(const Model& m, const GraphShape& shape, const DecoderStyle& style);

}  // namespace kiln
