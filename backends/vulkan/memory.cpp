#include "backends/vulkan/memory.h"

#include <cstdio>
#include <string>
#include <vector>

#include "backends/vulkan/device.h"
#include "backends/vulkan/device_error.h"
#include "graph/error.h"

namespace kiln::vk {

namespace {

constexpr VkMemoryPropertyFlags kDeviceLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
constexpr VkMemoryPropertyFlags kHostVisible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
constexpr VkMemoryPropertyFlags kCoherent = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
constexpr VkMemoryPropertyFlags kCached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;

const char* use_name(MemoryUse use) {
    switch (use) {
        case MemoryUse::device: return "device";
        case MemoryUse::upload: return "upload";
        case MemoryUse::readback: return "readback";
    }
    return "?";
}

// "1.0 GiB", "64.0 MiB", "12.5 KiB", "100 bytes".
std::string size_text(uint64_t bytes) {
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return std::to_string(bytes) + " bytes";
    double v = static_cast<double>(bytes) / 1024;
    int unit = 0;
    while (v >= 1024 && unit < 3) {
        v /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", v, units[unit]);
    return text;
}

// What the user can change so that it fits; the flags are those of every command that runs a
// model (apps/model_flags.cpp, apps/backend_flags.cpp).
const char* purpose_hint(MemoryPurpose purpose) {
    switch (purpose) {
        case MemoryPurpose::weights: return "try --gpu-layers N to keep fewer layers on the device";
        case MemoryPurpose::kv_cache: return "try a smaller -c, or --gpu-layers N";
        case MemoryPurpose::activations: return "try a smaller -b";
        case MemoryPurpose::io: return "try --gpu-layers N or a smaller -b";
    }
    return "";
}

}  // namespace

[[noreturn]] void throw_out_of_memory(const Device& device, uint64_t bytes, uint32_t type_index,
                                      MemoryPurpose purpose) {
    const auto& memory = device.memory_properties();
    const uint32_t heap = memory.memoryTypes[type_index].heapIndex;
    throw DeviceError(DeviceFault::out_of_memory,
                      "vulkan: out of device memory allocating " + size_text(bytes) + " for " + purpose_name(purpose) +
                          " (heap " + std::to_string(heap) + ": " + size_text(memory.memoryHeaps[heap].size) + ", " +
                          device.info().name + "); " + purpose_hint(purpose));
}

const char* purpose_name(MemoryPurpose purpose) {
    switch (purpose) {
        case MemoryPurpose::weights: return "weights";
        case MemoryPurpose::kv_cache: return "the KV cache";
        case MemoryPurpose::activations: return "activations";
        case MemoryPurpose::io: return "inputs and outputs";
    }
    return "?";
}

uint32_t choose_memory_type(const Device& device, uint32_t type_bits, MemoryUse use) {
    // Property sets to try in order; the first memory type having all of one set wins.
    std::vector<VkMemoryPropertyFlags> wanted;
    switch (use) {
        case MemoryUse::device:
            // On UMA, mapped device memory lets uploads be a memcpy.
            if (device.info().uma) wanted.push_back(kDeviceLocal | kHostVisible | kCoherent);
            wanted.push_back(kDeviceLocal);
            break;
        case MemoryUse::upload: wanted = {kHostVisible | kCoherent, kHostVisible}; break;
        case MemoryUse::readback: wanted = {kHostVisible | kCached | kCoherent, kHostVisible | kCached, kHostVisible}; break;
    }
    const auto& memory = device.memory_properties();
    for (VkMemoryPropertyFlags flags : wanted) {
        for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
            if ((type_bits & (1u << i)) && (memory.memoryTypes[i].propertyFlags & flags) == flags) return i;
        }
    }
    throw Error(std::string("Vulkan device ") + device.info().name + " has no memory type for " + use_name(use) +
                " buffers");
}

Allocation allocate_memory(const Device& device, const VkMemoryRequirements& requirements, MemoryUse use,
                           MemoryPurpose purpose) {
    device.check_alive();
    Allocation allocation;
    allocation.type_index = choose_memory_type(device, requirements.memoryTypeBits, use);
    allocation.size = requirements.size;
    const VkMemoryPropertyFlags flags = device.memory_properties().memoryTypes[allocation.type_index].propertyFlags;
    allocation.coherent = (flags & kCoherent) != 0;

    VkMemoryAllocateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    info.allocationSize = requirements.size;
    info.memoryTypeIndex = allocation.type_index;
    const VkResult result = device.vk().vkAllocateMemory(device.handle(), &info, nullptr, &allocation.memory);
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY) {
        throw_out_of_memory(device, requirements.size, allocation.type_index, purpose);
    }
    device.check(result, "vkAllocateMemory");

    if (flags & kHostVisible) {
        const VkResult mapped =
            device.vk().vkMapMemory(device.handle(), allocation.memory, 0, VK_WHOLE_SIZE, 0, &allocation.mapped);
        if (mapped != VK_SUCCESS) {
            free_memory(device, allocation);
            check(mapped, "vkMapMemory");
        }
    }
    return allocation;
}

void free_memory(const Device& device, Allocation& allocation) {
    if (allocation.memory == VK_NULL_HANDLE) return;
    // Freeing memory unmaps it implicitly.
    device.vk().vkFreeMemory(device.handle(), allocation.memory, nullptr);
    allocation = Allocation{};
}

}  // namespace kiln::vk
