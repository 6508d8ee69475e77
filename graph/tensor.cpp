#include "graph/tensor.h"

namespace kiln {

std::array<uint64_t, kMaxDims> packed_strides(DType type, const std::array<int64_t, kMaxDims>& ne) {
    const DTypeInfo& i = info(type);
    std::array<uint64_t, kMaxDims> nb{};
    nb[0] = i.block_bytes;
    nb[1] = static_cast<uint64_t>(ne[0] / i.block_size) * i.block_bytes;
    for (int d = 2; d < kMaxDims; ++d) nb[d] = nb[d - 1] * static_cast<uint64_t>(ne[d - 1]);
    return nb;
}

std::string shape_text(const Tensor& t) {
    std::string s = "[";
    int dims = kMaxDims;
    while (dims > 1 && t.ne[dims - 1] == 1) --dims;
    for (int d = 0; d < dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
    return s + "]";
}

uint64_t Tensor::n_bytes() const {
    const DTypeInfo& i = info(type);
    uint64_t bytes = static_cast<uint64_t>(ne[0] / i.block_size) * i.block_bytes;
    for (int d = 1; d < kMaxDims; ++d) bytes += static_cast<uint64_t>(ne[d] - 1) * nb[d];
    return bytes;
}

bool Tensor::rows_contiguous() const { return nb[0] == info(type).block_bytes; }

bool Tensor::is_contiguous() const {
    const auto packed = packed_strides(type, ne);
    if (nb[0] != packed[0]) return false;
    for (int d = 1; d < kMaxDims; ++d) {
        if (ne[d] > 1 && nb[d] != packed[d]) return false;  // a dimension of 1 may have any stride
    }
    return true;
}

}  // namespace kiln
