#pragma once
// A tensor as the graph sees it: dtype, up to 4 dimensions and byte strides, and where its
// bytes come from. It never owns memory: weights live in the model's mmap (or device memory),
// intermediates in a backend's arena at an offset the memory planner picks, inputs and state
// (the KV cache) in buffers that persist across steps. Reshape, view, permute and transpose
// make new descriptors over the same bytes.
#include <array>
#include <cstdint>
#include <string>

#include "graph/dtype.h"

namespace kiln {

constexpr int kMaxDims = 4;
using TensorId = int32_t;
constexpr TensorId kNoTensor = -1;

enum class TensorKind : uint8_t {
    Weight,        // read-only model bytes (`host_data` points into the mmap)
    Input,         // written by the host before each step: token ids, positions, which rows get logits
    State,         // persists across steps and is written by the graph: the KV cache
    Intermediate,  // produced and consumed within one step; placed in the arena
    View,          // bytes of `view_of` starting at `view_offset`
};

struct Tensor {
    std::string name;
    DType type = DType::F32;
    TensorKind kind = TensorKind::Intermediate;
    std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};   // number of elements; ne[0] is the row
    std::array<uint64_t, kMaxDims> nb{0, 0, 0, 0};  // stride in bytes; nb[0] = element (block) size
    TensorId view_of = kNoTensor;                   // the tensor whose bytes a view uses
    uint64_t view_offset = 0;                       // byte offset into view_of
    const void* host_data = nullptr;                // weights only

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
    // Bytes from the first to one past the last element (for contiguous tensors: the size).
    uint64_t n_bytes() const;
    // Rows are packed one after another with no gaps.
    bool is_contiguous() const;
    // Contiguous within each row (the only requirement most kernels have).
    bool rows_contiguous() const;
};

// "[64, 5]": the shape without trailing 1s, for messages and listings.
std::string shape_text(const Tensor& t);

// Strides of a packed tensor of this dtype and shape (ne[0] a multiple of the block size).
std::array<uint64_t, kMaxDims> packed_strides(DType type, const std::array<int64_t, kMaxDims>& ne);

}  // namespace kiln
