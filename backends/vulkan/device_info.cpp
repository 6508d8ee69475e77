#include "backends/vulkan/device_info.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "backends/host_memory.h"
#include "graph/error.h"

namespace kiln::vk {

namespace {

DeviceType to_device_type(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::integrated_gpu;
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::discrete_gpu;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::virtual_gpu;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::cpu;
        default: return DeviceType::other;
    }
}

// Higher is preferred when no device index is given.
int preference(DeviceType type) {
    switch (type) {
        case DeviceType::discrete_gpu: return 4;
        case DeviceType::integrated_gpu: return 3;
        case DeviceType::virtual_gpu: return 2;
        case DeviceType::cpu: return 1;
        case DeviceType::other: return 0;
    }
    return 0;
}

bool contains(const std::vector<std::string>& names, const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void query_queues(VkPhysicalDevice device, DeviceInfo& info) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
    for (const auto& family : families) {
        if (family.queueFlags & VK_QUEUE_COMPUTE_BIT) info.has_compute_queue = true;
    }
}

void query_memory(VkPhysicalDevice device, DeviceInfo& info) {
    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(device, &memory);
    for (uint32_t i = 0; i < memory.memoryHeapCount; ++i) {
        const auto& heap = memory.memoryHeaps[i];
        info.heaps.push_back({heap.size, (heap.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
    }
    // A discrete GPU's small host-visible BAR window also has both flags; it is not UMA.
    const bool shares_memory = info.type == DeviceType::integrated_gpu || info.type == DeviceType::cpu;
    constexpr VkMemoryPropertyFlags both = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
        if ((memory.memoryTypes[i].propertyFlags & both) == both && shares_memory) info.uma = true;
    }
}

// Vulkan 1.1+ properties and features; `api` is the version both instance and device support.
void query_extended(VkPhysicalDevice device, uint32_t api, const std::vector<std::string>& extensions,
                    DeviceInfo& info) {
    const bool has_size_control = api >= VK_API_VERSION_1_3 || contains(extensions, "VK_EXT_subgroup_size_control");
    const bool has_dot_product =
        api >= VK_API_VERSION_1_3 || contains(extensions, "VK_KHR_shader_integer_dot_product");

    VkPhysicalDeviceSubgroupSizeControlProperties size_control{};
    size_control.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES;
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    driver.pNext = has_size_control ? &size_control : nullptr;
    VkPhysicalDeviceMaintenance3Properties maintenance3{};
    maintenance3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    maintenance3.pNext = &driver;
    VkPhysicalDeviceShaderIntegerDotProductProperties dot_props{};
    dot_props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES;
    dot_props.pNext = &maintenance3;
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    subgroup.pNext = has_dot_product ? static_cast<void*>(&dot_props) : &maintenance3;
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &subgroup;
    vkGetPhysicalDeviceProperties2(device, &props);

    info.max_memory_allocation_size = maintenance3.maxMemoryAllocationSize;
    info.driver_name = driver.driverName;
    info.driver_info = driver.driverInfo;
    info.subgroup_size = subgroup.subgroupSize;
    info.min_subgroup_size = has_size_control ? size_control.minSubgroupSize : subgroup.subgroupSize;
    info.max_subgroup_size = has_size_control ? size_control.maxSubgroupSize : subgroup.subgroupSize;
    const bool in_compute = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    info.subgroup_arithmetic = in_compute && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    info.subgroup_shuffle = in_compute && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);

    VkPhysicalDeviceShaderIntegerDotProductFeatures dot_product{};
    dot_product.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
    VkPhysicalDeviceVulkan12Features v12{};
    v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    v12.pNext = has_dot_product ? &dot_product : nullptr;
    VkPhysicalDeviceVulkan11Features v11{};
    v11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    v11.pNext = &v12;
    VkPhysicalDeviceFeatures2 features{};
    features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    features.pNext = &v11;
    vkGetPhysicalDeviceFeatures2(device, &features);

    info.shader_fp16 = v12.shaderFloat16;
    info.shader_int8 = v12.shaderInt8;
    info.storage_16bit = v11.storageBuffer16BitAccess;
    info.storage_8bit = v12.storageBuffer8BitAccess;
    info.integer_dot_product = has_dot_product && dot_product.shaderIntegerDotProduct;
    // The matmuls use signed packed 4x8-bit dots (shaders/dequant_int8.glsl).
    info.integer_dot_accelerated =
        info.integer_dot_product && dot_props.integerDotProduct4x8BitPackedSignedAccelerated;
}

std::string kib_or_mib(uint64_t bytes) {
    if (bytes >= (uint64_t{1} << 20)) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

std::vector<std::string> device_extensions(VkPhysicalDevice device) {
    uint32_t count = 0;
    check(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr),
          "vkEnumerateDeviceExtensionProperties");
    std::vector<VkExtensionProperties> props(count);
    check(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, props.data()),
          "vkEnumerateDeviceExtensionProperties");
    std::vector<std::string> names;
    for (const auto& p : props) names.emplace_back(p.extensionName);
    return names;
}

DeviceInfo query_device_info(VkPhysicalDevice device, uint32_t index, uint32_t instance_api) {
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(device, &props);
    const VkPhysicalDeviceLimits& limits = props.limits;

    DeviceInfo info;
    info.index = index;
    info.name = props.deviceName;
    info.type = to_device_type(props.deviceType);
    info.vendor_id = props.vendorID;
    info.device_id = props.deviceID;
    info.device_class = device_class(info.vendor_id, info.type == DeviceType::cpu);
    info.shapes = kernel_shapes(info.device_class);
    info.api_version = props.apiVersion;
    info.driver_version = props.driverVersion;
    for (int i = 0; i < 3; ++i) {
        info.max_workgroup_size[i] = limits.maxComputeWorkGroupSize[i];
        info.max_workgroup_count[i] = limits.maxComputeWorkGroupCount[i];
    }
    info.max_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
    info.max_shared_memory = limits.maxComputeSharedMemorySize;
    info.max_push_constants = limits.maxPushConstantsSize;
    info.max_storage_buffer_range = limits.maxStorageBufferRange;
    info.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
    info.non_coherent_atom_size = limits.nonCoherentAtomSize;
    info.timestamp_period_ns = limits.timestampPeriod;

    query_queues(device, info);
    query_memory(device, info);
    // Structures of 1.2 core cannot be chained for an older device; such a device is unusable.
    const uint32_t api = std::min(instance_api, props.apiVersion);
    if (api >= VK_API_VERSION_1_2) {
        const auto extensions = device_extensions(device);
        query_extended(device, api, extensions, info);
        info.cooperative_matrix =
            contains(extensions, "VK_KHR_cooperative_matrix") || contains(extensions, "VK_NV_cooperative_matrix");
    }
    return info;
}

const char* to_string(DeviceType type) {
    switch (type) {
        case DeviceType::integrated_gpu: return "integrated GPU";
        case DeviceType::discrete_gpu: return "discrete GPU";
        case DeviceType::virtual_gpu: return "virtual GPU";
        case DeviceType::cpu: return "cpu";
        case DeviceType::other: return "other";
    }
    return "other";
}

std::string version_string(uint32_t api_version) {
    return std::to_string(VK_API_VERSION_MAJOR(api_version)) + "." + std::to_string(VK_API_VERSION_MINOR(api_version)) +
           "." + std::to_string(VK_API_VERSION_PATCH(api_version));
}

std::string describe(const DeviceInfo& info) {
    std::ostringstream out;
    out << info.index << ": " << info.name << " [" << to_string(info.type) << ", Vulkan "
        << version_string(info.api_version);
    if (!info.driver_name.empty()) out << ", " << info.driver_name << " " << info.driver_info;
    out << "]";
    if (!info.usable()) out << " (unusable: kiln needs Vulkan 1.2 with a compute queue)";

    out << "\n    memory:";
    for (const auto& heap : info.heaps) {
        out << " " << kib_or_mib(heap.size) << (heap.device_local ? " device-local" : " host") << ";";
    }
    if (info.uma) out << " unified";
    out << "\n    compute: subgroup " << info.subgroup_size;
    if (info.min_subgroup_size != info.max_subgroup_size) {
        out << " (" << info.min_subgroup_size << "-" << info.max_subgroup_size << ")";
    }
    out << ", workgroup " << info.max_workgroup_invocations << " invocations (" << info.max_workgroup_size[0] << "x"
        << info.max_workgroup_size[1] << "x" << info.max_workgroup_size[2] << "), shared memory "
        << kib_or_mib(info.max_shared_memory);
    out << "\n    buffers: binding range " << kib_or_mib(info.max_storage_buffer_range);
    if (info.max_memory_allocation_size) out << ", allocation " << kib_or_mib(info.max_memory_allocation_size);
    out << "\n    features:";
    const std::pair<bool, const char*> features[] = {
        {info.shader_fp16, "fp16"},
        {info.shader_int8, "int8"},
        {info.storage_16bit, "16-bit storage"},
        {info.storage_8bit, "8-bit storage"},
        {info.integer_dot_product,
         info.integer_dot_accelerated ? "integer dot product (accelerated)" : "integer dot product"},
        {info.cooperative_matrix, "cooperative matrix"},
        {info.subgroup_arithmetic, "subgroup arithmetic"},
        {info.subgroup_shuffle, "subgroup shuffle"},
    };
    bool any = false;
    for (const auto& [present, name] : features) {
        if (!present) continue;
        out << (any ? ", " : " ") << name;
        any = true;
    }
    if (!any) out << " none";
    out << "\n    kernels (" << to_string(info.device_class) << " table): " << describe(info.shapes);
    return out.str();
}

uint32_t select_device(const std::vector<DeviceInfo>& devices, std::optional<uint32_t> requested) {
    if (devices.empty()) {
        throw Error("no Vulkan device found; install a driver (e.g. mesa-vulkan-drivers for the lavapipe CPU device)");
    }
    if (requested) {
        const uint32_t index = *requested;
        if (index >= devices.size()) {
            throw Error("Vulkan device index " + std::to_string(index) + " is out of range: " +
                        std::to_string(devices.size()) + " device" + (devices.size() == 1 ? "" : "s") +
                        " found (see `kiln devices`)");
        }
        if (!devices[index].usable()) {
            throw Error("Vulkan device " + std::to_string(index) + " (" + devices[index].name +
                        ") is unusable: kiln needs Vulkan 1.2 with a compute queue");
        }
        return index;
    }
    std::optional<uint32_t> best;
    for (const auto& info : devices) {
        if (!info.usable()) continue;
        if (!best || preference(info.type) > preference(devices[*best].type)) best = info.index;
    }
    if (!best) throw Error("no Vulkan device supports Vulkan 1.2 with a compute queue (see `kiln devices`)");
    return *best;
}

MemoryLimit device_memory_limit(const DeviceInfo& info) {
    MemoryLimit limit;
    for (size_t i = 0; i < info.heaps.size(); ++i) {
        if (info.heaps[i].device_local && info.heaps[i].size > limit.bytes) {
            limit = {info.heaps[i].size, "device-local heap " + std::to_string(i) + " of " + info.name};
        }
    }
    if (info.uma) {
        if (auto host = host_memory_limit(); host && host->bytes < limit.bytes) limit = *host;
    }
    return limit;
}

}  // namespace kiln::vk
