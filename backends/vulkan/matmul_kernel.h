#pragma once
// The Vulkan matmul kernel families (backends/vulkan/ops/matmul.cpp describes them), for
// VulkanOptions::matmul_kernel and `--vk-matmul`. Free of Vulkan headers, so the flag is
// checked the same way in builds without Vulkan.
#include <optional>
#include <string_view>

namespace kiln::vk {

// automatic: by device type and column count. The others force a family wherever the device
// can run it: lanes only on devices with one fixed subgroup size of 4 to 32 (else automatic),
// and vec becomes vec_shared on devices without subgroup arithmetic. idot: quantized weights
// against x quantized to 8-bit blocks with packed integer dots (vec's or tiles' layout by
// column count) wherever the device has shaderIntegerDotProduct; automatic picks it where the
// device says those dots are accelerated.
enum class MatmulKernel { automatic, lanes, vec, vec_shared, tiles, idot };

// "auto", "lanes", "vec", "vec_shared", "tiles" or "idot"; nullopt for anything else.
inline std::optional<MatmulKernel> parse_matmul_kernel(std::string_view name) {
    if (name == "auto") return MatmulKernel::automatic;
    if (name == "lanes") return MatmulKernel::lanes;
    if (name == "vec") return MatmulKernel::vec;
    if (name == "vec_shared") return MatmulKernel::vec_shared;
    if (name == "tiles") return MatmulKernel::tiles;
    if (name == "idot") return MatmulKernel::idot;
    return std::nullopt;
}

}  // namespace kiln::vk
