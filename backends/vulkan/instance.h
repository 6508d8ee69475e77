#pragma once
// The Vulkan instance: loader initialisation, API version, and (when asked) the Khronos
// validation layer with its messages counted, so tests can assert that none were errors.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "backends/vulkan/api.h"

namespace kiln::vk {

enum class ValidationSeverity { warning, error };

// Receives each validation message; the default prints it to stderr.
using ValidationSink = std::function<void(ValidationSeverity, std::string_view message)>;

struct InstanceOptions {
    // Enable VK_LAYER_KHRONOS_validation (with synchronization validation). The environment
    // variable KILN_VK_VALIDATION=1 turns it on too. Without the layer installed, the instance
    // is created anyway and validation_enabled() is false.
    bool validation = false;
    ValidationSink sink;
};

class Instance {
public:
    explicit Instance(const InstanceOptions& options = {});
    ~Instance();
    // Devices and the messenger's user data point at this object, so it stays put.
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return instance_; }
    // The API version requested from the loader (1.2 or 1.3).
    uint32_t api_version() const { return api_version_; }
    std::vector<VkPhysicalDevice> physical_devices() const;

    bool validation_enabled() const { return messenger_ != VK_NULL_HANDLE; }
    uint32_t validation_errors() const { return errors_.load(); }
    uint32_t validation_warnings() const { return warnings_.load(); }

private:
    static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                     void* user);

    VkInstance instance_ = VK_NULL_HANDLE;
    uint32_t api_version_ = 0;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    // Extension entry points are per instance: volk's globals may come from another instance.
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
    ValidationSink sink_;
    std::atomic<uint32_t> errors_{0};
    std::atomic<uint32_t> warnings_{0};
};

}  // namespace kiln::vk
