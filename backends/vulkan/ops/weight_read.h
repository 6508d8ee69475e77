#pragma once
// Host side of shaders/dequant.glsl, shared by the matmul and get_rows families: which dtypes
// it reads, the shader-name suffix of each, and the unit its offsets and strides are counted in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backends/vulkan/ops/float_layout.h"
#include "graph/graph.h"

namespace kiln::vk {

// The suffix of the shader variants for weights of type `t` ("q4_k"), or nullopt when
// dequant.glsl has no reader for it.
inline std::optional<std::string_view> weight_shader_suffix(DType t) {
    switch (t) {
        case DType::F32: return "f32";
        case DType::F16: return "f16";
        case DType::BF16: return "bf16";
        case DType::Q4_0: return "q4_0";
        case DType::Q4_1: return "q4_1";
        case DType::Q5_0: return "q5_0";
        case DType::Q5_1: return "q5_1";
        case DType::Q8_0: return "q8_0";
        case DType::Q2_K: return "q2_k";
        case DType::Q3_K: return "q3_k";
        case DType::Q4_K: return "q4_k";
        case DType::Q5_K: return "q5_k";
        case DType::Q6_K: return "q6_k";
        case DType::IQ4_NL: return "iq4_nl";
        default: return std::nullopt;
    }
}

// dequant.glsl reads F32 weights as floats and everything else as 16-bit words (quant blocks
// are only 2-byte aligned); offsets and strides are passed in these units.
inline uint32_t weight_unit_bytes(DType t) { return t == DType::F32 ? 4 : 2; }

// `t`'s stride along dimension d in units, 0 where the dimension has one element (its stride
// is never used).
inline uint64_t unit_stride(const Tensor& t, int d, uint64_t unit) { return t.ne[d] > 1 ? t.nb[d] / unit : 0; }

// `t`'s offset and the strides of its dimensions 1..3 are whole multiples of `unit` bytes, and
// the strides fit the shaders' 32-bit indices.
inline bool unit_aligned(const Graph& g, TensorId t, uint64_t unit) {
    const Tensor& x = g.tensor(t);
    if (storage_offset(g, t) % unit != 0) return false;
    for (int d = 1; d < kMaxDims; ++d) {
        if (x.ne[d] > 1 && (x.nb[d] % unit != 0 || x.nb[d] / unit > UINT32_MAX)) return false;
    }
    return true;
}

inline uint32_t ceil_div(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace kiln::vk
