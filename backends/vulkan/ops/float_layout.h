#pragma once
// f32 / f16 / bf16 tensors as shaders/float_tensor.glsl indexes them: a type code, the first
// element's offset within its binding and strides, all counted in elements of the tensor's own
// type. Shared by the elementwise, norm, rows and argmax families, whose shaders address any
// (possibly strided) view this way and so need no variant per dtype or layout.
#include <algorithm>
#include <cstdint>

#include "backends/vulkan/ops/op_recorder.h"

namespace kiln::vk {

// Bytes per element of an f32 / f16 / bf16 / i32 tensor.
inline uint64_t element_bytes(DType t) { return info(t).block_bytes; }

inline bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// float_tensor.glsl's KILN_F32 / KILN_F16 / KILN_BF16.
inline uint32_t float_code(DType t) {
    switch (t) {
        case DType::F16: return 1;
        case DType::BF16: return 2;
        default: return 0;
    }
}

// Workgroup size of the flat (one invocation per element) kernels: the device class's (a power of
// two), halved to within the device's limits.
inline uint32_t flat_workgroup_size(const DeviceInfo& info) {
    uint32_t wg = info.shapes.flat_workgroup;
    while (wg > 1 && (wg > info.max_workgroup_size[0] || wg > info.max_workgroup_invocations)) wg /= 2;
    return wg;
}

// The largest power of two <= `want` the device runs as one workgroup (for row kernels, whose
// shared-memory trees need a power of two).
inline uint32_t row_workgroup_size(const DeviceInfo& info, uint32_t want) {
    uint32_t wg = 1;
    while (wg * 2 <= want && wg * 2 <= info.max_workgroup_size[0] && wg * 2 <= info.max_workgroup_invocations) wg *= 2;
    return wg;
}

// Groups for a grid-stride loop over `items`, `per_group` each, capped at the device's limit
// (the shaders loop over what the grid does not cover).
inline uint32_t grid_groups(const DeviceInfo& info, uint64_t items, uint32_t per_group) {
    const uint64_t groups = std::max<uint64_t>(1, (items + per_group - 1) / per_group);
    return static_cast<uint32_t>(std::min<uint64_t>(groups, info.max_workgroup_count[0]));
}

// Bytes from the start of the tensor owning `id`'s memory to its first byte (through views).
inline uint64_t storage_offset(const Graph& g, TensorId id) {
    uint64_t offset = 0;
    for (const Tensor* t = &g.tensor(id); t->kind == TensorKind::View; t = &g.tensor(t->view_of)) {
        offset += t->view_offset;
    }
    return offset;
}

// Whether shaders reading 32-bit words reach every row of `id`: row strides and the tensor's
// offset within its (aligned) storage are multiples of 4 bytes.
inline bool rows_word_aligned(const Graph& g, TensorId id) {
    const Tensor& x = g.tensor(id);
    return x.nb[1] % 4 == 0 && x.nb[2] % 4 == 0 && x.nb[3] % 4 == 0 && storage_offset(g, id) % 4 == 0;
}

// Whether a tensor of `bytes` binds as one range that the shaders index in bytes with 32 bits:
// the binding starts up to one offset alignment before the tensor. Every op's size check.
inline bool binding_fits(uint64_t bytes, const DeviceInfo& info) {
    const uint64_t bound = bytes + info.min_storage_buffer_offset_alignment;
    return bound <= info.max_storage_buffer_range && bound <= UINT32_MAX;
}

// Whether the shaders can address tensor `id` element by element: a float type (or I32 when
// `allow_i32`), contiguous rows, strides and its byte offset within its storage multiples of
// the element size, and few enough bytes to bind at once and index with 32 bits.
inline bool addressable(const Graph& g, TensorId id, const DeviceInfo& info, bool allow_i32 = false) {
    const Tensor& t = g.tensor(id);
    if (!is_float_type(t.type) && !(allow_i32 && t.type == DType::I32)) return false;
    const uint64_t size = element_bytes(t.type);
    if (t.nb[0] != size || storage_offset(g, id) % size != 0) return false;
    for (int d = 1; d < kMaxDims; ++d) {
        if (t.ne[d] > 1 && t.nb[d] % size != 0) return false;
    }
    // Element indices are signed 32-bit, counted from the binding's start.
    const uint64_t bound = t.n_bytes() + info.min_storage_buffer_offset_alignment;
    return binding_fits(t.n_bytes(), info) && bound / size < (uint64_t{1} << 31) &&
           static_cast<uint64_t>(t.n_elements()) < (uint64_t{1} << 31);
}

// A tensor as float_tensor.glsl indexes it (push-constant fields, in this order by convention).
struct ElementLayout {
    uint32_t offset = 0;                 // the first element, from the binding's start
    uint32_t nb1 = 0, nb2 = 0, nb3 = 0;  // strides in elements (0 along dimensions of size 1)
    uint32_t type = 0;                   // float_code(), or 0 for I32
};

inline ElementLayout element_layout(const Tensor& t, const TensorBinding& b) {
    const uint64_t size = element_bytes(t.type);
    const auto stride = [&](int d) { return t.ne[d] > 1 ? static_cast<uint32_t>(t.nb[d] / size) : 0u; };
    return {static_cast<uint32_t>(b.offset / size), stride(1), stride(2), stride(3), float_code(t.type)};
}

}  // namespace kiln::vk
