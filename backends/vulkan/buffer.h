#pragma once
// A Vulkan storage buffer with its memory, owned RAII-style (movable, not copyable). Every
// buffer can be a shader storage buffer and a transfer source/destination, so one type serves
// weights, activations and staging.
#include <cstddef>
#include <cstdint>

#include "backends/vulkan/api.h"
#include "backends/vulkan/memory.h"

namespace kiln::vk {

class Device;

// A byte range of a buffer, as bound to a shader: a whole buffer or a view into one.
struct BufferRange {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = VK_WHOLE_SIZE;
};

class Buffer {
public:
    Buffer() = default;
    // Throws kiln::Error when `size` is 0, DeviceError (naming `purpose`) when the memory cannot
    // be allocated.
    Buffer(const Device& device, VkDeviceSize size, MemoryUse use, MemoryPurpose purpose = MemoryPurpose::io);
    ~Buffer();
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    VkBuffer handle() const { return buffer_; }
    VkDeviceSize size() const { return size_; }
    MemoryUse use() const { return use_; }
    explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

    // Host address of the buffer's first byte, or null when its memory is not host-visible
    // (device buffers on a discrete GPU: use upload()/download() from transfer.h).
    std::byte* mapped() const { return static_cast<std::byte*>(allocation_.mapped); }
    // Make host writes visible to the device / device writes visible to the host; no-ops on
    // coherent memory. Ranges are in bytes from the buffer's start.
    void flush(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE) const;
    void invalidate(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE) const;

    BufferRange range(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE) const;

private:
    void release();
    VkMappedMemoryRange memory_range(VkDeviceSize offset, VkDeviceSize size) const;

    const Device* device_ = nullptr;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0;
    MemoryUse use_ = MemoryUse::device;
    Allocation allocation_;
};

}  // namespace kiln::vk
