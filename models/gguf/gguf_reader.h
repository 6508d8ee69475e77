#pragma once
// GGUF reader (versions 1-3). The whole file is checked at open: every count, length, offset
// and size is validated against the file size with overflow-safe arithmetic before anything
// is allocated or read. Errors are one line: file, the key or tensor at fault, and the byte
// offset. Tensor data is used in place from the memory map.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/dtype.h"
#include "models/gguf/gguf_value.h"
#include "models/gguf/mapped_file.h"

namespace kiln {

struct GgufTensorInfo {
    std::string name;
    DType type = DType::F32;
    std::vector<uint64_t> dims;  // ne[0] is the contiguous (row) dimension, as in ggml
    uint64_t offset = 0;         // from the start of the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    uint64_t info_offset = 0;  // where the tensor info starts in the file (for messages)
};

struct GgufKeyValue {
    std::string key;
    GgufValue value;
};

class GgufFile {
public:
    static constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
    static constexpr uint64_t kDefaultAlignment = 32;
    static constexpr uint64_t kMaxAlignment = 1u << 20;
    static constexpr uint32_t kMaxDims = 4;
    static constexpr int kMaxArrayNesting = 8;
    // Each key, nested array and tensor is an object of a few hundred bytes in memory; these
    // caps (far above any real model's hundreds) bound what a file's counts can make kiln hold.
    static constexpr uint64_t kMaxMetadataValues = 1u << 16;  // keys + nested arrays
    static constexpr uint64_t kMaxTensors = 1u << 16;

    // Maps (or, `resident`, reads: mapped_file.h) and validates a file; throws kiln::Error.
    static GgufFile open(const std::filesystem::path& path, WeightMemory memory = WeightMemory::mapped);
    // Where the file's bytes live (`mapped` for parsed caller-owned bytes).
    WeightMemory weight_memory() const;
    // Validates bytes held by the caller (which must outlive the result); `name` is used in errors.
    static GgufFile parse(std::span<const uint8_t> bytes, std::string name);

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

    const std::string& name() const { return name_; }
    uint32_t version() const { return version_; }
    uint64_t file_size() const { return bytes_.size(); }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }

    const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
    const GgufValue* find(std::string_view key) const;

    // Typed lookups. nullopt when the key is absent; kiln::Error naming the key when it is
    // present with a type or value that does not fit.
    std::optional<std::string> get_string(std::string_view key) const;
    std::optional<uint64_t> get_uint(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    const GgufArray* get_array(std::string_view key, GgufType elem) const;

    const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
    const GgufTensorInfo* find_tensor(std::string_view name) const;
    std::span<const uint8_t> tensor_data(const GgufTensorInfo& t) const;

private:
    GgufFile() = default;
    [[noreturn]] void fail_key(std::string_view key, const std::string& what) const;

    std::unique_ptr<MappedFile> map_;  // null when parsing caller-owned bytes
    std::span<const uint8_t> bytes_;
    std::string name_;
    uint32_t version_ = 0;
    uint64_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<GgufKeyValue> metadata_;
    std::unordered_map<std::string, size_t> key_index_;
    std::vector<GgufTensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;

    friend class GgufParser;
};

}  // namespace kiln
