// LLaMA 1/2/3, Mistral, TinyLlama, SmolLM2 (all "llama" in GGUF): RoPE on neighbouring pairs.
// Mixtral is "llama" with experts (llama.expert_count): mixture-of-experts FFNs, weights
// renormalized.
#include "models/arch/builders.h"
#include "models/arch/decoder.h"

namespace kiln {

ModelGraph build_llama(const Model& m, const GraphShape& shape) { return build_decoder(m, shape, DecoderStyle{}); }

}  // namespace kiln
