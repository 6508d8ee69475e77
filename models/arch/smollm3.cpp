// SmolLM3: the LLaMA decoder with no RoPE on every 4th layer (layer l with (l + 1) % 4 == 0).
// GGUF has no key for this; llama.cpp fixes it in code for the architecture, and so does kiln.
#include "models/arch/builders.h"
#include "models/arch/decoder.h"

namespace kiln {

ModelGraph build_smollm3(const Model& m, const GraphShape& shape) {
    DecoderStyle style;
    style.nope_every = 4;
    return build_decoder(m, shape, style);
}

}  // namespace kiln
