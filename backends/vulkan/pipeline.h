#pragma once
// A compute pipeline built from an embedded shader: shader module, a descriptor set layout of N
// storage buffers (bindings 0..N-1), one push constant range, and specialization constants.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/vulkan/api.h"

namespace kiln::vk {

class Device;

struct PipelineDesc {
    std::string_view shader;  // name in shaders/ (kiln::shader_spirv)
    uint32_t storage_buffers = 0;
    uint32_t push_constant_bytes = 0;  // a multiple of 4, at most the device's limit
    // Value i is given to constant_id = i. By kiln's convention (shaders/common.glsl) constant 0
    // is the workgroup size along x and must be present.
    std::vector<uint32_t> spec_constants;
};

class ComputePipeline {
public:
    ComputePipeline() = default;
    // Throws kiln::Error for an unknown shader or a description the device cannot take.
    ComputePipeline(const Device& device, const PipelineDesc& desc);
    ~ComputePipeline();
    ComputePipeline(ComputePipeline&& other) noexcept;
    ComputePipeline& operator=(ComputePipeline&& other) noexcept;
    ComputePipeline(const ComputePipeline&) = delete;
    ComputePipeline& operator=(const ComputePipeline&) = delete;

    VkPipeline handle() const { return pipeline_; }
    VkPipelineLayout layout() const { return layout_; }
    VkDescriptorSetLayout set_layout() const { return set_layout_; }
    const std::string& shader() const { return shader_; }
    uint32_t storage_buffers() const { return storage_buffers_; }
    uint32_t push_constant_bytes() const { return push_constant_bytes_; }
    uint32_t workgroup_size() const { return workgroup_size_; }

private:
    void release();

    const Device* device_ = nullptr;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
    std::string shader_;
    uint32_t storage_buffers_ = 0;
    uint32_t push_constant_bytes_ = 0;
    uint32_t workgroup_size_ = 0;
};

}  // namespace kiln::vk
