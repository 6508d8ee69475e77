#include "backends/vulkan/device.h"

#include <algorithm>
#include <string>
#include <vector>

#include "backends/vulkan/device_error.h"
#include "backends/vulkan/instance.h"
#include "backends/vulkan/memory_pool.h"
#include "graph/error.h"

namespace kiln::vk {

namespace {

struct QueueChoice {
    uint32_t family = 0;
    bool timestamps = false;
};

// A compute family, preferring one with timestamps and then one without graphics (a dedicated
// compute queue on discrete GPUs).
QueueChoice choose_compute_queue(VkPhysicalDevice physical) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, families.data());
    int best_score = -1;
    QueueChoice best;
    for (uint32_t i = 0; i < count; ++i) {
        const auto& family = families[i];
        if (!(family.queueFlags & VK_QUEUE_COMPUTE_BIT) || family.queueCount == 0) continue;
        const bool timestamps = family.timestampValidBits > 0;
        const int score = (timestamps ? 2 : 0) + ((family.queueFlags & VK_QUEUE_GRAPHICS_BIT) ? 0 : 1);
        if (score > best_score) {
            best_score = score;
            best = {i, timestamps};
        }
    }
    if (best_score < 0) throw Error("Vulkan device has no compute queue");
    return best;
}

}  // namespace

Device::Device(const Instance& instance, VkPhysicalDevice physical, DeviceInfo info)
    : physical_(physical), info_(std::move(info)) {
    if (!info_.usable()) {
        throw Error("Vulkan device " + std::to_string(info_.index) + " (" + info_.name +
                    ") is unusable: kiln needs Vulkan 1.2 with a compute queue");
    }
    const QueueChoice queue = choose_compute_queue(physical);
    queue_family_ = queue.family;
    queue_timestamps_ = queue.timestamps;
    vkGetPhysicalDeviceMemoryProperties(physical, &memory_);

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info{};
    queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    queue_info.queueFamilyIndex = queue_family_;
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;

    const auto available = device_extensions(physical);
    auto has = [&](const char* name) { return std::find(available.begin(), available.end(), name) != available.end(); };
    std::vector<const char*> extensions;
    // The spec requires enabling it wherever it is offered (MoltenVK).
    if (has("VK_KHR_portability_subset")) extensions.push_back("VK_KHR_portability_subset");

    const uint32_t api = std::min(instance.api_version(), info_.api_version);
    VkPhysicalDeviceShaderIntegerDotProductFeatures dot_product{};
    dot_product.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
    dot_product.shaderIntegerDotProduct = VK_TRUE;
    VkPhysicalDeviceVulkan12Features v12{};
    v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    v12.shaderFloat16 = info_.shader_fp16;
    v12.shaderInt8 = info_.shader_int8;
    v12.storageBuffer8BitAccess = info_.storage_8bit;
    if (info_.integer_dot_product) {
        v12.pNext = &dot_product;
        if (api < VK_API_VERSION_1_3) extensions.push_back("VK_KHR_shader_integer_dot_product");
    }
    VkPhysicalDeviceVulkan11Features v11{};
    v11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    v11.pNext = &v12;
    v11.storageBuffer16BitAccess = info_.storage_16bit;
    VkPhysicalDeviceFeatures2 features{};
    features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    features.pNext = &v11;

    VkDeviceCreateInfo device_info{};
    device_info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    device_info.pNext = &features;
    device_info.queueCreateInfoCount = 1;
    device_info.pQueueCreateInfos = &queue_info;
    device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    device_info.ppEnabledExtensionNames = extensions.data();
    check(vkCreateDevice(physical, &device_info, nullptr, &device_), "vkCreateDevice");

    volkLoadDeviceTable(&table_, device_);
    table_.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
    pool_ = std::make_unique<MemoryPool>(*this);
}

Device::~Device() {
    if (device_ == VK_NULL_HANDLE) return;
    // Objects must not be in use when destroyed. A lost device is not waited for (it may never
    // answer); every command buffer has already waited for its own work, briefly.
    if (!lost()) table_.vkDeviceWaitIdle(device_);
    pool_.reset();  // its blocks, once every buffer is gone
    table_.vkDestroyDevice(device_, nullptr);
}

void Device::wait_idle() const {
    check_alive();
    check(table_.vkDeviceWaitIdle(device_), "vkDeviceWaitIdle");
}

void Device::check_alive() const {
    if (!lost()) return;
    std::lock_guard lock(lost_mutex_);
    throw DeviceError(DeviceFault::lost, lost_message_);
}

void Device::check(VkResult result, const char* call) const {
    if (result == VK_ERROR_DEVICE_LOST) {
        {
            std::lock_guard lock(lost_mutex_);
            if (!lost()) {
                lost_message_ = "vulkan: device lost (VK_ERROR_DEVICE_LOST from " + std::string(call) + ") on " +
                                info_.name + ": the driver reset it or it crashed; restart kiln to use it again";
                lost_.store(true, std::memory_order_release);
            }
        }
        check_alive();
    }
    vk::check(result, call);
}

}  // namespace kiln::vk
