#pragma once
// Random-weight models of a real model's shape, written by kiln's own GGUF writer: for tests,
// benchmarks at real sizes without downloads, and `make run` when no real model is at hand.
// Weights are deterministic for a seed (whatever the thread count) and stream out tensor by
// tensor, so a model larger than memory can be written.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "graph/dtype.h"
#include "models/synth/synth_shapes.h"

namespace kiln {

struct SynthOptions {
    SynthShape shape;
    DType dtype = DType::F32;  // matrices; norms and biases stay f32 as in converted models
    uint64_t seed = 42;
    std::optional<bool> tied_output;         // default: the shape's
    std::optional<std::filesystem::path> vocab_from;  // a GGUF whose tokenizer.* keys are copied
    unsigned threads = 0;                     // 0: every hardware thread
    // The dtype of one matrix (name, row length, rows), e.g. from a quantization mix. Unset:
    // `dtype`, or the type quantize falls back to where `dtype`'s blocks do not fit the rows.
    std::function<DType(const std::string& name, uint64_t cols, uint64_t rows)> matrix_type;
    std::optional<uint32_t> file_type;  // general.file_type (llama.cpp's ftype), when known
    // Tensor data left as holes (GgufWriter::write's data_as_holes): a file of the shape's full
    // size costing no disk, whose weights read as zeros.
    bool header_only = false;
    // Called after each tensor is written (name, tensors done including it, tensor count).
    std::function<void(const std::string&, size_t, size_t)> progress;
};

// What was written.
struct SynthSummary {
    uint64_t parameters = 0;
    uint64_t bytes = 0;  // tensor data
    uint32_t n_vocab = 0;
    uint32_t fallbacks = 0;  // matrices written in another type because `dtype` did not fit
};

// Throws kiln::Error when a dtype cannot hold a tensor's rows, the vocab file is unusable, or
// on I/O failure; never leaves a partial file.
SynthSummary write_synthetic_model(const std::filesystem::path& path, const SynthOptions& options);

}  // namespace kiln
