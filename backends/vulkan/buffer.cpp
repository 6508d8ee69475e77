#include "backends/vulkan/buffer.h"

#include <utility>

#include "backends/vulkan/device.h"
#include "backends/vulkan/memory_pool.h"
#include "graph/error.h"

namespace kiln::vk {

Buffer::Buffer(const Device& device, VkDeviceSize size, MemoryUse use, MemoryPurpose purpose)
    : device_(&device), size_(size), use_(use) {
    if (size == 0) throw Error("Vulkan buffers cannot be empty");
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = size;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    const auto& vk = device.vk();
    check(vk.vkCreateBuffer(device.handle(), &info, nullptr, &buffer_), "vkCreateBuffer");

    VkMemoryRequirements requirements{};
    vk.vkGetBufferMemoryRequirements(device.handle(), buffer_, &requirements);
    try {
        allocation_ = device.memory_pool().allocate(requirements, use, purpose);
        check(vk.vkBindBufferMemory(device.handle(), buffer_, allocation_.memory, allocation_.offset),
              "vkBindBufferMemory");
    } catch (...) {
        release();
        throw;
    }
}

Buffer::~Buffer() { release(); }

Buffer::Buffer(Buffer&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      buffer_(std::exchange(other.buffer_, VK_NULL_HANDLE)),
      size_(std::exchange(other.size_, 0)),
      use_(other.use_),
      allocation_(std::exchange(other.allocation_, Allocation{})) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
        size_ = std::exchange(other.size_, 0);
        use_ = other.use_;
        allocation_ = std::exchange(other.allocation_, Allocation{});
    }
    return *this;
}

void Buffer::release() {
    if (!device_) return;
    if (buffer_ != VK_NULL_HANDLE) device_->vk().vkDestroyBuffer(device_->handle(), buffer_, nullptr);
    device_->memory_pool().free(allocation_);
    buffer_ = VK_NULL_HANDLE;
    device_ = nullptr;
    size_ = 0;
}

// Flush/invalidate ranges are in memory-object offsets and must be multiples of
// nonCoherentAtomSize, or reach the end of the memory object.
VkMappedMemoryRange Buffer::memory_range(VkDeviceSize offset, VkDeviceSize size) const {
    const VkDeviceSize atom = device_->info().non_coherent_atom_size;
    const VkDeviceSize begin = allocation_.offset + offset;
    VkMappedMemoryRange range{};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = allocation_.memory;
    range.offset = begin / atom * atom;
    const VkDeviceSize end = size == VK_WHOLE_SIZE ? allocation_.offset + allocation_.size : begin + size;
    const VkDeviceSize aligned_end = (end + atom - 1) / atom * atom;
    // Only a dedicated allocation (offset 0) may run to the memory object's end.
    range.size = allocation_.offset == 0 && aligned_end >= allocation_.size ? VK_WHOLE_SIZE : aligned_end - range.offset;
    return range;
}

void Buffer::flush(VkDeviceSize offset, VkDeviceSize size) const {
    if (!allocation_.mapped || allocation_.coherent) return;
    const VkMappedMemoryRange range = memory_range(offset, size);
    check(device_->vk().vkFlushMappedMemoryRanges(device_->handle(), 1, &range), "vkFlushMappedMemoryRanges");
}

void Buffer::invalidate(VkDeviceSize offset, VkDeviceSize size) const {
    if (!allocation_.mapped || allocation_.coherent) return;
    const VkMappedMemoryRange range = memory_range(offset, size);
    check(device_->vk().vkInvalidateMappedMemoryRanges(device_->handle(), 1, &range),
          "vkInvalidateMappedMemoryRanges");
}

BufferRange Buffer::range(VkDeviceSize offset, VkDeviceSize size) const {
    if (offset > size_ || (size != VK_WHOLE_SIZE && size > size_ - offset)) {
        throw Error("Vulkan buffer range [" + std::to_string(offset) + ", +" + std::to_string(size) +
                    ") exceeds the buffer's " + std::to_string(size_) + " bytes");
    }
    return {buffer_, offset, size};
}

}  // namespace kiln::vk
