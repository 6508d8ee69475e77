// Qwen2 / Qwen2.5 (q, k, v biases, read when present) and Qwen3 (per-head q/k RMSNorm, head size
// from attention.key_length): RoPE on halves (NeoX style), output tied when output.weight is absent.
// Qwen3-MoE is Qwen3 with mixture-of-experts FFNs (expert_count > 0), weights renormalized.
#include "models/arch/builders.h"
#include "models/arch/decoder.h"

namespace kiln {

ModelGraph build_qwen2(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.rope_mode = RopeMode::Neox;
    return build_decoder(m, shape, style);
}

// Qwen2-MoE: Qwen2 with mixture-of-experts FFNs whose chosen weights are not renormalized, plus
// a shared expert behind a sigmoid gate.
ModelGraph build_qwen2moe(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.rope_mode = RopeMode::Neox;
    style.moe_renormalize = false;
    style.moe_shared_expert = true;
    return build_decoder(m, shape, style);
}

ModelGraph build_qwen3(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.rope_mode = RopeMode::Neox;
    style.qk_norm = true;
    return build_decoder(m, shape, style);
}

}  // namespace kiln
