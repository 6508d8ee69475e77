#pragma once
// Converts a GGUF model's weights to a quantization mix (`kiln quantize`): each tensor's type
// comes from choose_tensor_type (quant_mix.h); its rows are dequantized to f32 and quantized
// again on several threads while the writer streams the file out, one tensor at a time, so the
// output never has to fit in memory. Metadata is copied, with general.file_type set to the
// mix's and general.quantization_version to 2. OUT is written to OUT.partial and renamed, so
// an error (or an exception from a callback) leaves no OUT and no OUT.partial, and an existing
// OUT is replaced only on success.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/parallel_rows.h"
#include "models/gguf/gguf_reader.h"
#include "models/quantize/quant_mix.h"

namespace kiln {

struct PlannedTensor {
    const GgufTensorInfo* tensor;  // in the input file
    TensorChoice choice;
    bool unconvertible = false;  // a weight matrix kept as stored: kiln cannot convert its dtype
    DType out_type() const { return choice.quantize ? choice.type : tensor->type; }
    // The bytes can be copied unchanged (kept, or already of the target type).
    bool copied() const { return out_type() == tensor->type; }
};

struct QuantizePlan {
    const QuantMix* mix = nullptr;
    uint32_t n_layer = 0;      // blocks seen in tensor names (blk.N.)
    bool tied_output = false;  // no output.weight: token_embd.weight is the head
    std::vector<PlannedTensor> tensors;  // in the input's order

    size_t fallbacks() const;
    // Tensors stored quantized in the input that are converted to another quantized type.
    size_t requantized() const;
    size_t unconvertible() const;
};

// Decides every tensor's type; throws nothing for a valid GgufFile.
QuantizePlan plan_quantization(const GgufFile& in, const QuantMix& mix);
// One-line remarks about a plan: tensors quantized a second time, matrices kiln cannot convert.
std::vector<std::string> quantize_notices(const QuantizePlan& plan);

struct QuantizeProgress {
    size_t tensors_done, n_tensors;
    uint64_t bytes_done, total_bytes;  // of the input's tensor data
    const std::string& name;           // the tensor just written
};

struct QuantizeOptions {
    unsigned threads = default_offline_threads();
    std::function<void(const std::string&)> notice;  // quantize_model's quantize_notices
    std::function<void(const QuantizeProgress&)> progress;  // after each tensor
};

struct QuantizeSummary {
    uint64_t in_bytes = 0, out_bytes = 0;  // file sizes
    std::map<DType, size_t> tensors_per_type;
    std::map<std::pair<DType, DType>, size_t> fallbacks;  // (wanted, written) -> count
    size_t n_fallbacks = 0;
    double seconds = 0;
};

// Throws kiln::Error with one line naming the path at fault when OUT is IN (the same file),
// OUT is not a regular file, or OUT's directory cannot be written; called once IN is open and
// before any work.
void check_quantize_paths(const std::filesystem::path& in, const std::filesystem::path& out);

// Writes `plan` (made from `in`) to `out`.
QuantizeSummary write_quantized(const GgufFile& in, const QuantizePlan& plan, const std::filesystem::path& out,
                                const QuantizeOptions& options);

// Opens IN (kiln::Error when missing or not GGUF), check_quantize_paths, plan_quantization,
// quantize_notices, write_quantized.
QuantizeSummary quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                               const QuantMix& mix, const QuantizeOptions& options);

}  // namespace kiln
