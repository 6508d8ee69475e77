#pragma once
// Device memory: which memory type each use gets, and allocating memory objects. Buffers get
// theirs through the device's MemoryPool (memory_pool.h), which carves most from large blocks.
#include <cstdint>

#include "backends/vulkan/api.h"

namespace kiln::vk {

class Device;

enum class MemoryUse {
    device,    // read and written by shaders; host-mapped too on UMA devices
    upload,    // host writes, the GPU reads once (staging)
    readback,  // the GPU writes, the host reads (staging)
};

// What an allocation holds: named in the out-of-memory error with what the user can change.
enum class MemoryPurpose {
    weights,      // the model's weights (WeightStore)
    kv_cache,     // State tensors (StateBuffers)
    activations,  // a compiled graph's arena and kernel scratch
    io,           // a graph's inputs and outputs, staging copies
};
const char* purpose_name(MemoryPurpose purpose);

struct Allocation {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;  // of this allocation within `memory`
    VkDeviceSize size = 0;
    uint32_t type_index = 0;
    void* mapped = nullptr;  // host address of `offset`, or null when not host-visible
    bool coherent = true;    // host writes/reads need no flush/invalidate
    void* block = nullptr;   // MemoryPool: the block it was carved from (null: its own memory)
    MemoryPurpose purpose = MemoryPurpose::io;
};

// The memory type for `use` among `type_bits` (VkMemoryRequirements::memoryTypeBits).
// Throws kiln::Error when none fits.
uint32_t choose_memory_type(const Device& device, uint32_t type_bits, MemoryUse use);

// Allocates (and maps, when host-visible) memory meeting `requirements`. Throws DeviceError
// (device_error.h) when the device is out of memory: one line naming the size, the purpose, the
// heap and what to try. Throws the device's DeviceError when it is lost.
Allocation allocate_memory(const Device& device, const VkMemoryRequirements& requirements, MemoryUse use,
                           MemoryPurpose purpose);

// The out-of-memory DeviceError for `bytes` of memory type `type_index` held for `purpose`.
[[noreturn]] void throw_out_of_memory(const Device& device, uint64_t bytes, uint32_t type_index,
                                      MemoryPurpose purpose);

// Frees `allocation` and resets it to empty; an empty allocation is ignored.
void free_memory(const Device& device, Allocation& allocation);

}  // namespace kiln::vk
