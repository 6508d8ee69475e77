#pragma once
// A loaded model: the mapped GGUF file, its validated hyperparameters, and its weights checked
// against them (names, shapes, dtypes) before any graph is built. Architectures look weights
// up here; the bytes stay in the mmap.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"
#include "models/gguf/gguf_reader.h"
#include "models/hparams.h"

namespace kiln {

class Model {
public:
    // Throws kiln::Error naming the file, key or tensor at fault.
    // `memory`: where the weights live (models/gguf/mapped_file.h): `resident` where the CPU
    // reads them, `mapped` where a device holds its own copy.
    static Model load(const std::filesystem::path& path, WeightMemory memory = WeightMemory::mapped);

    const GgufFile& file() const { return *file_; }
    const ModelHparams& hparams() const { return hparams_; }

    // The tensor called `name` (or one of GGUF's naming variants of it). Throws kiln::Error when
    // it is missing or its shape differs from `shape` (ggml order; trailing 1s may be omitted).
    const GgufTensorInfo& require(const std::string& name, std::vector<int64_t> shape) const;
    // nullptr when absent; throws when present with another shape.
    const GgufTensorInfo* optional(const std::string& name, std::vector<int64_t> shape) const;

    // Adds a weight as a graph leaf (bytes used in place).
    TensorId weight(Graph& g, const GgufTensorInfo& t) const;

private:
    Model() = default;
    const GgufTensorInfo* find(const std::string& name) const;
    void check_shape(const GgufTensorInfo& t, const std::vector<int64_t>& shape) const;

    std::unique_ptr<GgufFile> file_;
    ModelHparams hparams_;
};

}  // namespace kiln
