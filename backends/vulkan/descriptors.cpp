#include "backends/vulkan/descriptors.h"

#include <string>
#include <utility>
#include <vector>

#include "backends/vulkan/device.h"
#include "backends/vulkan/pipeline.h"
#include "graph/error.h"

namespace kiln::vk {

DescriptorPool::DescriptorPool(const Device& device, uint32_t max_sets, uint32_t max_buffers) : device_(&device) {
    VkDescriptorPoolSize size{};
    size.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    size.descriptorCount = max_buffers;
    VkDescriptorPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    info.maxSets = max_sets;
    info.poolSizeCount = 1;
    info.pPoolSizes = &size;
    check(device.vk().vkCreateDescriptorPool(device.handle(), &info, nullptr, &pool_), "vkCreateDescriptorPool");
}

DescriptorPool::~DescriptorPool() { release(); }

DescriptorPool::DescriptorPool(DescriptorPool&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)), pool_(std::exchange(other.pool_, VK_NULL_HANDLE)) {}

DescriptorPool& DescriptorPool::operator=(DescriptorPool&& other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
    }
    return *this;
}

void DescriptorPool::release() {
    if (device_ && pool_ != VK_NULL_HANDLE) device_->vk().vkDestroyDescriptorPool(device_->handle(), pool_, nullptr);
    device_ = nullptr;
    pool_ = VK_NULL_HANDLE;
}

VkDescriptorSet DescriptorPool::allocate(const ComputePipeline& pipeline, std::span<const BufferRange> buffers) {
    if (buffers.size() != pipeline.storage_buffers()) {
        throw Error("pipeline '" + pipeline.shader() + "' binds " + std::to_string(pipeline.storage_buffers()) +
                    " storage buffers, got " + std::to_string(buffers.size()));
    }
    const uint64_t alignment = device_->info().min_storage_buffer_offset_alignment;
    for (const BufferRange& range : buffers) {
        if (range.buffer == VK_NULL_HANDLE) throw Error("pipeline '" + pipeline.shader() + "': empty buffer bound");
        if (range.offset % alignment != 0) {
            throw Error("pipeline '" + pipeline.shader() + "': buffer offset " + std::to_string(range.offset) +
                        " is not a multiple of the device's storage alignment " + std::to_string(alignment));
        }
    }

    const VkDescriptorSetLayout layout = pipeline.set_layout();
    VkDescriptorSetAllocateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    info.descriptorPool = pool_;
    info.descriptorSetCount = 1;
    info.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    const VkResult result = device_->vk().vkAllocateDescriptorSets(device_->handle(), &info, &set);
    if (result == VK_ERROR_OUT_OF_POOL_MEMORY || result == VK_ERROR_FRAGMENTED_POOL) {
        throw Error("Vulkan descriptor pool is full (allocating a set for '" + pipeline.shader() + "')");
    }
    check(result, "vkAllocateDescriptorSets");

    std::vector<VkDescriptorBufferInfo> infos(buffers.size());
    std::vector<VkWriteDescriptorSet> writes(buffers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
        infos[i] = {buffers[i].buffer, buffers[i].offset, buffers[i].size};
        writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[i].dstSet = set;
        writes[i].dstBinding = static_cast<uint32_t>(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    device_->vk().vkUpdateDescriptorSets(device_->handle(), static_cast<uint32_t>(writes.size()), writes.data(), 0,
                                         nullptr);
    return set;
}

void DescriptorPool::reset() {
    check(device_->vk().vkResetDescriptorPool(device_->handle(), pool_, 0), "vkResetDescriptorPool");
}

}  // namespace kiln::vk
