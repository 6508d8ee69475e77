#pragma once
// A logical Vulkan device with one compute queue, created with the optional shader features the
// physical device has (fp16, int8, 8/16-bit storage, integer dot product) so kernels may use them.
#include <cstdint>

#include "backends/vulkan/api.h"
#include "backends/vulkan/device_info.h"

namespace kiln::vk {

class Instance;

class Device {
public:
    // `info` must describe `physical` (query_device_info); the device must be usable().
    Device(const Instance& instance, VkPhysicalDevice physical, DeviceInfo info);
    ~Device();
    // Buffers, pipelines and command buffers keep a pointer to their device, so it stays put.
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return physical_; }
    // Device-level entry points, loaded for this device (direct driver calls, no loader hop).
    const VolkDeviceTable& vk() const { return table_; }
    const DeviceInfo& info() const { return info_; }
    const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }

    // The compute queue. Vulkan queues need external synchronisation: submit from one thread.
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    // Whether the queue supports timestamp queries (timestampValidBits > 0).
    bool queue_timestamps() const { return queue_timestamps_; }

    void wait_idle() const;

private:
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VolkDeviceTable table_{};
    DeviceInfo info_;
    VkPhysicalDeviceMemoryProperties memory_{};
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    bool queue_timestamps_ = false;
};

}  // namespace kiln::vk
