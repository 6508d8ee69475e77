#pragma once
// Random-weight LLaMA-architecture models written by kiln's own GGUF writer: for tests,
// benchmarks at real shapes, and `make run` when no real model is at hand. Weights are
// deterministic for a seed; the vocabulary is SentencePiece-style (specials, 256 byte tokens,
// then word pieces).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dtype.h"

namespace kiln {

struct SynthShape {
    std::string name;
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, context;
};

// Known shapes: "tiny" (3.4M parameters, rows a multiple of 256 so every dtype fits), "tinyllama" (TinyLlama-1.1B), "llama2-7b".
std::optional<SynthShape> synth_shape(std::string_view name);
std::vector<std::string> synth_shape_names();

struct SynthOptions {
    SynthShape shape;
    DType dtype = DType::F32;  // matrices; norm weights stay f32 as in converted models
    uint64_t seed = 42;
    bool tied_output = false;
};

// Throws kiln::Error when the dtype cannot hold the shape's rows (block size) or on I/O
// failure; never leaves a partial file.
void write_synthetic_llama(const std::filesystem::path& path, const SynthOptions& options);

}  // namespace kiln
