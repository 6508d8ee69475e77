#pragma once
// GGUF v3 writer: metadata in insertion order, tensor infos, then tensor data aligned to
// `general.alignment` (32 unless set). The file is written next to its destination and
// renamed into place, so a failure never leaves a half-written model behind.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "graph/dtype.h"
#include "models/gguf/gguf_value.h"

namespace kiln {

class GgufWriter {
public:
    // Sets a metadata value, replacing an existing key in place.
    void set(const std::string& key, GgufValue value);

    // Adds a tensor; `dims[0]` is the row length. The bytes are copied.
    // Throws kiln::Error when the byte count does not match dtype and dims, or the name repeats.
    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims,
                    std::span<const uint8_t> data);
    // The same, taking ownership of the bytes (no copy).
    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims, std::vector<uint8_t>&& data);

    // Fills a tensor's bytes when the file is written rather than now, so a model larger than
    // memory streams out one tensor at a time. `fill` gets exactly the tensor's byte count.
    using TensorFill = std::function<void(std::span<uint8_t>)>;
    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims, TensorFill fill);

    // Throws kiln::Error naming the path on I/O failure, or what a TensorFill threw; the
    // destination is then untouched. `data_as_holes`: write the header only and extend the file
    // to its full size without writing tensor data (a sparse file whose weights read as zeros,
    // costing no disk): models of any shape for what kiln decides before reading weights.
    void write(const std::filesystem::path& path, bool data_as_holes = false) const;

    // The whole file in memory (tests, small models).
    std::vector<uint8_t> to_bytes() const;

private:
    struct Tensor {
        std::string name;
        DType type;
        std::vector<uint64_t> dims;
        uint64_t n_bytes;
        std::vector<uint8_t> data;  // empty when `fill` makes the bytes
        TensorFill fill;
    };
    uint64_t checked_bytes(const std::string& name, DType type, const std::vector<uint64_t>& dims) const;
    std::span<const uint8_t> bytes_of(const Tensor& t, std::vector<uint8_t>& scratch) const;
    uint64_t alignment() const;
    std::vector<uint8_t> header_bytes() const;  // everything before the first tensor's data
    uint64_t padding_after(const Tensor& t) const;

    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<Tensor> tensors_;
};

// Convenience constructors for metadata arrays.
GgufValue gguf_string_array(const std::vector<std::string>& items);
GgufValue gguf_f32_array(const std::vector<float>& items);
GgufValue gguf_i32_array(const std::vector<int32_t>& items);

}  // namespace kiln
