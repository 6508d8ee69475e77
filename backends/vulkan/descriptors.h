#pragma once
// Descriptor sets binding buffers to a pipeline's storage-buffer slots, allocated from a pool.
// Sets live as long as the pool (or until reset()), which suits command buffers recorded once
// and replayed: allocate every set at record time, keep the pool alongside the recording.
#include <cstdint>
#include <span>

#include "backends/vulkan/api.h"
#include "backends/vulkan/buffer.h"

namespace kiln::vk {

class ComputePipeline;
class Device;

class DescriptorPool {
public:
    DescriptorPool() = default;
    // Room for `max_sets` sets holding `max_buffers` storage-buffer bindings in all.
    DescriptorPool(const Device& device, uint32_t max_sets, uint32_t max_buffers);
    ~DescriptorPool();
    DescriptorPool(DescriptorPool&& other) noexcept;
    DescriptorPool& operator=(DescriptorPool&& other) noexcept;
    DescriptorPool(const DescriptorPool&) = delete;
    DescriptorPool& operator=(const DescriptorPool&) = delete;

    // A set for `pipeline` with buffers[i] at binding i. Throws kiln::Error when the count does
    // not match the pipeline, an offset is misaligned for the device, or the pool is full.
    VkDescriptorSet allocate(const ComputePipeline& pipeline, std::span<const BufferRange> buffers);

    // Returns every set to the pool; sets in pending command buffers must not be reset.
    void reset();

    VkDescriptorPool handle() const { return pool_; }

private:
    void release();

    const Device* device_ = nullptr;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
};

}  // namespace kiln::vk
