#pragma once
// Scalar reference kernels: the ground truth every backend is tested against. Written to be
// obviously correct, not fast: plain loops over logical indices, strided access through nb[],
// double accumulation for sums (dot products, norms, softmax, attention).
#include <cstdint>
#include <span>

#include "graph/graph.h"

namespace kiln {

// Runs one node. `data[t]` is the address of tensor t's first byte (views already resolved).
void reference_execute(const Graph& g, const Node& n, std::span<uint8_t* const> data);

namespace reference {

// Address of element row (i1, i2, i3) of t.
inline uint8_t* row(const Tensor& t, uint8_t* base, int64_t i1, int64_t i2 = 0, int64_t i3 = 0) {
    return base + static_cast<uint64_t>(i1) * t.nb[1] + static_cast<uint64_t>(i2) * t.nb[2] +
           static_cast<uint64_t>(i3) * t.nb[3];
}

// Reads element i0 of a row of an f32 / f16 / bf16 tensor.
float load(DType type, const uint8_t* row, int64_t i0);

// One file per family; each is called by reference_execute.
void elementwise(const Graph& g, const Node& n, std::span<uint8_t* const> data);  // add mul scale silu gelu swiglu
void norms(const Graph& g, const Node& n, std::span<uint8_t* const> data);        // rms_norm norm softmax
void matmul(const Graph& g, const Node& n, std::span<uint8_t* const> data);
void mul_mat_id(const Graph& g, const Node& n, std::span<uint8_t* const> data);
void rope(const Graph& g, const Node& n, std::span<uint8_t* const> data);
void flash_attn(const Graph& g, const Node& n, std::span<uint8_t* const> data);
void data_movement(const Graph& g, const Node& n, std::span<uint8_t* const> data);  // get_rows copy set_rows concat argmax

}  // namespace reference
}  // namespace kiln
