#pragma once
// Tokenizers for synthetic models: a built-in one (SentencePiece-style or GPT-2 byte-level BPE,
// both loadable by kiln and llama.cpp) or every tokenizer.* key copied from a vocab GGUF.
#include <cstdint>

#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"
#include "models/synth/synth_shapes.h"

namespace kiln {

// Writes the built-in tokenizer of the shape's kind, `shape.n_vocab` tokens.
void write_builtin_vocab(GgufWriter& w, const SynthShape& shape);

// Copies every tokenizer.* key of `from`; returns its vocabulary size. Throws kiln::Error
// naming the file when it has no tokenizer.ggml.tokens.
uint32_t copy_vocab(GgufWriter& w, const GgufFile& from);

}  // namespace kiln
