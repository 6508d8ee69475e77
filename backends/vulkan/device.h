#pragma once
// A logical Vulkan device with one compute queue, created with the optional shader features the
// physical device has (fp16, int8, 8/16-bit storage, integer dot product) so kernels may use them.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "backends/vulkan/api.h"
#include "backends/vulkan/device_info.h"

namespace kiln::vk {

class Instance;
class MemoryPool;

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

    // Where every buffer's memory comes from (memory_pool.h); freed with the device.
    MemoryPool& memory_pool() const { return *pool_; }

    // A lost device stays lost. The first VK_ERROR_DEVICE_LOST (from any call, on any thread) is
    // recorded; from then on every use of the device fails fast with the same DeviceError
    // (device_error.h) instead of touching it, and destructors wait for it only briefly.
    bool lost() const { return lost_.load(std::memory_order_acquire); }
    // Throws the recorded DeviceError when the device is lost.
    void check_alive() const;
    // check() from api.h, recording VK_ERROR_DEVICE_LOST first (and throwing DeviceError then).
    void check(VkResult result, const char* call) const;

private:
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VolkDeviceTable table_{};
    DeviceInfo info_;
    VkPhysicalDeviceMemoryProperties memory_{};
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    bool queue_timestamps_ = false;
    mutable std::atomic<bool> lost_{false};
    mutable std::mutex lost_mutex_;
    mutable std::string lost_message_;  // set once, under lost_mutex_, before lost_
    std::unique_ptr<MemoryPool> pool_;
};

}  // namespace kiln::vk
