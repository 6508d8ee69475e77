#include "backends/vulkan/pipeline.h"

#include <utility>

#include "backends/vulkan/device.h"
#include "graph/error.h"
#include "shaders/spirv.h"

namespace kiln::vk {

namespace {

void validate(const Device& device, const PipelineDesc& desc) {
    const DeviceInfo& info = device.info();
    const std::string name(desc.shader);
    if (desc.spec_constants.empty() || desc.spec_constants[0] == 0) {
        throw Error("pipeline '" + name + "': spec constant 0 (workgroup size) must be given and nonzero");
    }
    if (desc.spec_constants[0] > info.max_workgroup_size[0] || desc.spec_constants[0] > info.max_workgroup_invocations) {
        throw Error("pipeline '" + name + "': workgroup size " + std::to_string(desc.spec_constants[0]) +
                    " exceeds the device's limit of " + std::to_string(info.max_workgroup_size[0]));
    }
    if (desc.push_constant_bytes % 4 != 0 || desc.push_constant_bytes > info.max_push_constants) {
        throw Error("pipeline '" + name + "': " + std::to_string(desc.push_constant_bytes) +
                    " push constant bytes (must be a multiple of 4, at most " + std::to_string(info.max_push_constants) +
                    ")");
    }
}

}  // namespace

ComputePipeline::ComputePipeline(const Device& device, const PipelineDesc& desc)
    : device_(&device),
      shader_(desc.shader),
      storage_buffers_(desc.storage_buffers),
      push_constant_bytes_(desc.push_constant_bytes) {
    validate(device, desc);
    workgroup_size_ = desc.spec_constants[0];
    const std::span<const uint32_t> code = shader_spirv(desc.shader);
    const auto& vk = device.vk();
    const VkDevice dev = device.handle();

    try {
        std::vector<VkDescriptorSetLayoutBinding> bindings(desc.storage_buffers);
        for (uint32_t i = 0; i < desc.storage_buffers; ++i) {
            bindings[i].binding = i;
            bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            bindings[i].descriptorCount = 1;
            bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        }
        VkDescriptorSetLayoutCreateInfo set_info{};
        set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
        set_info.bindingCount = desc.storage_buffers;
        set_info.pBindings = bindings.data();
        check(vk.vkCreateDescriptorSetLayout(dev, &set_info, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");

        VkPushConstantRange push{};
        push.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        push.size = desc.push_constant_bytes;
        VkPipelineLayoutCreateInfo layout_info{};
        layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
        layout_info.setLayoutCount = 1;
        layout_info.pSetLayouts = &set_layout_;
        layout_info.pushConstantRangeCount = desc.push_constant_bytes > 0 ? 1 : 0;
        layout_info.pPushConstantRanges = &push;
        check(vk.vkCreatePipelineLayout(dev, &layout_info, nullptr, &layout_), "vkCreatePipelineLayout");

        VkShaderModuleCreateInfo module_info{};
        module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
        module_info.codeSize = code.size_bytes();
        module_info.pCode = code.data();
        VkShaderModule module = VK_NULL_HANDLE;
        check(vk.vkCreateShaderModule(dev, &module_info, nullptr, &module), "vkCreateShaderModule");

        std::vector<VkSpecializationMapEntry> entries(desc.spec_constants.size());
        for (uint32_t i = 0; i < entries.size(); ++i) {
            entries[i].constantID = i;
            entries[i].offset = i * sizeof(uint32_t);
            entries[i].size = sizeof(uint32_t);
        }
        VkSpecializationInfo spec{};
        spec.mapEntryCount = static_cast<uint32_t>(entries.size());
        spec.pMapEntries = entries.data();
        spec.dataSize = desc.spec_constants.size() * sizeof(uint32_t);
        spec.pData = desc.spec_constants.data();

        VkComputePipelineCreateInfo pipeline_info{};
        pipeline_info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
        pipeline_info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
        pipeline_info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        pipeline_info.stage.module = module;
        pipeline_info.stage.pName = "main";
        pipeline_info.stage.pSpecializationInfo = &spec;
        pipeline_info.layout = layout_;
        const VkResult result =
            vk.vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &pipeline_info, nullptr, &pipeline_);
        // The pipeline keeps what it needs from the module.
        vk.vkDestroyShaderModule(dev, module, nullptr);
        check(result, "vkCreateComputePipelines");
    } catch (...) {
        release();
        throw;
    }
}

ComputePipeline::~ComputePipeline() { release(); }

ComputePipeline::ComputePipeline(ComputePipeline&& other) noexcept { *this = std::move(other); }

ComputePipeline& ComputePipeline::operator=(ComputePipeline&& other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        set_layout_ = std::exchange(other.set_layout_, VK_NULL_HANDLE);
        layout_ = std::exchange(other.layout_, VK_NULL_HANDLE);
        pipeline_ = std::exchange(other.pipeline_, VK_NULL_HANDLE);
        shader_ = std::move(other.shader_);
        storage_buffers_ = other.storage_buffers_;
        push_constant_bytes_ = other.push_constant_bytes_;
        workgroup_size_ = other.workgroup_size_;
    }
    return *this;
}

void ComputePipeline::release() {
    if (!device_) return;
    const auto& vk = device_->vk();
    const VkDevice dev = device_->handle();
    if (pipeline_ != VK_NULL_HANDLE) vk.vkDestroyPipeline(dev, pipeline_, nullptr);
    if (layout_ != VK_NULL_HANDLE) vk.vkDestroyPipelineLayout(dev, layout_, nullptr);
    if (set_layout_ != VK_NULL_HANDLE) vk.vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
    pipeline_ = VK_NULL_HANDLE;
    layout_ = VK_NULL_HANDLE;
    set_layout_ = VK_NULL_HANDLE;
    device_ = nullptr;
}

}  // namespace kiln::vk
