#include "backends/vulkan/context.h"

namespace kiln::vk {

namespace {

std::vector<DeviceInfo> enumerate(const Instance& instance, std::vector<VkPhysicalDevice>& physical) {
    physical = instance.physical_devices();
    std::vector<DeviceInfo> devices;
    for (uint32_t i = 0; i < physical.size(); ++i) {
        devices.push_back(query_device_info(physical[i], i, instance.api_version()));
    }
    return devices;
}

}  // namespace

Context::Context(const ContextOptions& options)
    : instance_(std::make_unique<Instance>(InstanceOptions{options.validation, options.validation_sink})) {
    std::vector<VkPhysicalDevice> physical;
    std::vector<DeviceInfo> devices = enumerate(*instance_, physical);
    const uint32_t index = select_device(devices, options.device_index);
    device_ = std::make_unique<Device>(*instance_, physical[index], std::move(devices[index]));
}

std::vector<DeviceInfo> list_vulkan_devices() {
    const Instance instance;
    std::vector<VkPhysicalDevice> physical;
    return enumerate(instance, physical);
}

std::string describe_vulkan_devices(const std::vector<DeviceInfo>& devices) {
    if (devices.empty()) return "no Vulkan devices";
    std::string text;
    for (const auto& device : devices) {
        if (!text.empty()) text += "\n";
        text += describe(device);
    }
    return text;
}

}  // namespace kiln::vk
