// Qwen2 / Qwen2.5 (q, k, v biases, read when present) and Qwen3 (per-head q/k RMSNorm, head size
// from attention.key_length): RoPE on halves (NeoX style), output tied when output.weight is absent.
#include "models/arch/builders.h"
#include "models/arch/decoder.h"

namespace kiln {

ModelGraph build_qwen2(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.rope_mode = RopeMode::Neox;
    return build_decoder(m, shape, style);
}

ModelGraph build_qwen3(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.rope_mode = RopeMode::Neox;
    style.qk_norm = true;
    return build_decoder(m, shape, style);
}

}  // namespace kiln
