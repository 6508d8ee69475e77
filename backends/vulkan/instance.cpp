#include "backends/vulkan/instance.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>

#include "graph/error.h"

namespace kiln::vk {

namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool env_flag(const char* name) {
    const char* value = std::getenv(name);
    return value && std::strcmp(value, "1") == 0;
}

bool has_layer(const char* name) {
    uint32_t count = 0;
    check(vkEnumerateInstanceLayerProperties(&count, nullptr), "vkEnumerateInstanceLayerProperties");
    std::vector<VkLayerProperties> layers(count);
    check(vkEnumerateInstanceLayerProperties(&count, layers.data()), "vkEnumerateInstanceLayerProperties");
    for (const auto& layer : layers) {
        if (std::strcmp(layer.layerName, name) == 0) return true;
    }
    return false;
}

// Extensions from the loader and drivers, plus those of `layer` when given.
std::vector<std::string> instance_extensions(const char* layer) {
    uint32_t count = 0;
    check(vkEnumerateInstanceExtensionProperties(layer, &count, nullptr),
          "vkEnumerateInstanceExtensionProperties");
    std::vector<VkExtensionProperties> props(count);
    check(vkEnumerateInstanceExtensionProperties(layer, &count, props.data()),
          "vkEnumerateInstanceExtensionProperties");
    std::vector<std::string> names;
    for (const auto& p : props) names.emplace_back(p.extensionName);
    return names;
}

bool contains(const std::vector<std::string>& names, const char* name) {
    for (const auto& n : names) {
        if (n == name) return true;
    }
    return false;
}

// Optional extras of a layer; a layer that cannot list them simply lacks them.
bool layer_has_extension(const char* layer, const char* extension) {
    try {
        return contains(instance_extensions(layer), extension);
    } catch (const Error&) {
        return false;
    }
}

void print_message(ValidationSeverity severity, std::string_view message) {
    std::cerr << "kiln: Vulkan validation " << (severity == ValidationSeverity::error ? "error" : "warning")
              << ": " << message << "\n";
}

// The API version kiln asks for: 1.3 where the loader has it, else 1.2.
uint32_t supported_api_version() {
    const uint32_t loader_version = volkGetInstanceVersion();
    if (loader_version < VK_API_VERSION_1_2) {
        throw Error("Vulkan loader supports API " + std::to_string(VK_API_VERSION_MAJOR(loader_version)) + "." +
                    std::to_string(VK_API_VERSION_MINOR(loader_version)) + "; kiln needs Vulkan 1.2");
    }
    return loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2;
}

// Whether validation is asked for (the option or KILN_VK_VALIDATION=1) and installed.
bool use_validation(bool requested) {
    const bool want_validation = requested || env_flag("KILN_VK_VALIDATION");
    const bool validation = want_validation && has_layer(kValidationLayer);
    if (want_validation && !validation) {
        std::cerr << "kiln: Vulkan validation requested but " << kValidationLayer
                  << " is not installed; running without it\n";
    }
    return validation;
}

// What vkCreateInstance is asked for. `next` points into the request itself, so it is not
// copied or moved.
struct InstanceRequest {
    std::vector<const char*> layers;
    std::vector<const char*> extensions;
    VkInstanceCreateFlags flags = 0;
    const void* next = nullptr;
    VkDebugUtilsMessengerCreateInfoEXT messenger_info{};
    VkValidationFeaturesEXT features{};
    const VkValidationFeatureEnableEXT enabled_features[1] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};

    InstanceRequest() = default;
    InstanceRequest(const InstanceRequest&) = delete;
    InstanceRequest& operator=(const InstanceRequest&) = delete;

    // MoltenVK and other non-conformant drivers are listed only when this is enabled.
    void add_portability() {
        if (contains(instance_extensions(nullptr), VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
            extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
            flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
        }
    }

    void add_validation(PFN_vkDebugUtilsMessengerCallbackEXT callback, void* user) {
        layers.push_back(kValidationLayer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        messenger_info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
        messenger_info.messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        messenger_info.pfnUserCallback = callback;
        messenger_info.pUserData = user;
        // Chained into instance creation too, so messages from vkCreateInstance are counted.
        next = &messenger_info;
        // Missing barriers are the bug class a compute backend is most likely to have.
        if (layer_has_extension(kValidationLayer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
            extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
            features.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT;
            features.pNext = &messenger_info;
            features.enabledValidationFeatureCount = 1;
            features.pEnabledValidationFeatures = enabled_features;
            next = &features;
        }
    }
};

VkInstance create_instance(const InstanceRequest& request, uint32_t api_version) {
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "kiln";
    app.pEngineName = "kiln";
    app.apiVersion = api_version;

    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pNext = request.next;
    info.flags = request.flags;
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<uint32_t>(request.layers.size());
    info.ppEnabledLayerNames = request.layers.data();
    info.enabledExtensionCount = static_cast<uint32_t>(request.extensions.size());
    info.ppEnabledExtensionNames = request.extensions.data();
    VkInstance instance = VK_NULL_HANDLE;
    const VkResult created = vkCreateInstance(&info, nullptr, &instance);
    if (created == VK_ERROR_INCOMPATIBLE_DRIVER) {
        throw Error("no Vulkan driver found (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER); "
                    "install one, e.g. mesa-vulkan-drivers for the lavapipe CPU device");
    }
    check(created, "vkCreateInstance");
    return instance;
}

// Creates the validation messenger, or destroys `instance` and throws: the Instance that owns
// it is still being constructed, so its destructor will not run.
VkDebugUtilsMessengerEXT create_messenger(VkInstance instance, const VkDebugUtilsMessengerCreateInfoEXT& info,
                                          PFN_vkDestroyDebugUtilsMessengerEXT& destroy) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    if (!create || !destroy) {
        vkDestroyInstance(instance, nullptr);
        throw Error("Vulkan: VK_EXT_debug_utils is enabled but its functions are missing");
    }
    VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
    const VkResult result = create(instance, &info, nullptr, &messenger);
    if (result != VK_SUCCESS) {
        vkDestroyInstance(instance, nullptr);
        check(result, "vkCreateDebugUtilsMessengerEXT");
    }
    return messenger;
}

}  // namespace

Instance::Instance(const InstanceOptions& options) : sink_(options.sink ? options.sink : print_message) {
    load_vulkan_loader();
    api_version_ = supported_api_version();
    const bool validation = use_validation(options.validation);

    InstanceRequest request;
    request.add_portability();
    if (validation) request.add_validation(&Instance::on_message, this);
    instance_ = create_instance(request, api_version_);

    // Core instance functions resolve to loader trampolines that serve every instance, so
    // loading them from whichever instance comes first is enough.
    static std::once_flag loaded;
    std::call_once(loaded, [this] { volkLoadInstanceOnly(instance_); });

    if (validation) messenger_ = create_messenger(instance_, request.messenger_info, destroy_messenger_);
}

Instance::~Instance() {
    if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
    if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physical_devices() const {
    uint32_t count = 0;
    check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    check(vkEnumeratePhysicalDevices(instance_, &count, devices.data()), "vkEnumeratePhysicalDevices");
    devices.resize(count);
    return devices;
}

VKAPI_ATTR VkBool32 VKAPI_CALL Instance::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT /*types*/,
                                                    const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                    void* user) {
    auto* self = static_cast<Instance*>(user);
    const bool error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    (error ? self->errors_ : self->warnings_).fetch_add(1);
    self->sink_(error ? ValidationSeverity::error : ValidationSeverity::warning,
                data && data->pMessage ? data->pMessage : "(no message)");
    // VK_FALSE: the call that triggered the message proceeds, as the spec requires.
    return VK_FALSE;
}

}  // namespace kiln::vk
