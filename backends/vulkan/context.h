#pragma once
// Entry point of the Vulkan backend: an instance plus the chosen device. Also the device list
// behind `kiln devices`.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/vulkan/device.h"
#include "backends/vulkan/device_info.h"
#include "backends/vulkan/instance.h"

namespace kiln::vk {

struct ContextOptions {
    // Index into list_vulkan_devices() (`--device N`); unset picks the best usable device.
    std::optional<uint32_t> device_index;
    // See InstanceOptions::validation (KILN_VK_VALIDATION=1 also enables it).
    bool validation = false;
    ValidationSink validation_sink;
};

class Context {
public:
    // Throws kiln::Error when there is no loader or driver, no usable device, or the index is
    // out of range (the message names the index and the device count).
    explicit Context(const ContextOptions& options = {});

    const Instance& instance() const { return *instance_; }
    const Device& device() const { return *device_; }
    const DeviceInfo& info() const { return device_->info(); }

private:
    // Heap-held so that Context can move while objects keep pointers to the device. Declaration
    // order matters: the device is destroyed before its instance.
    std::unique_ptr<Instance> instance_;
    std::unique_ptr<Device> device_;
};

// Every Vulkan device, in the order `--device N` indexes them. Throws kiln::Error when the
// Vulkan loader or a driver is missing; returns an empty list when a driver lists no device.
std::vector<DeviceInfo> list_vulkan_devices();

// describe() of every device, one block per device, or a line saying there is none.
std::string describe_vulkan_devices(const std::vector<DeviceInfo>& devices);

}  // namespace kiln::vk
