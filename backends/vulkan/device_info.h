#pragma once
// What kiln knows about one Vulkan physical device: identity, limits that shape kernels, and
// the optional shader features later kernels choose variants by. Filled by query_device_info;
// printed by `kiln devices` via describe().
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/api.h"
#include "backends/vulkan/kernel_shapes.h"
#include "backends/vulkan/matmul_kernel.h"

namespace kiln::vk {

enum class DeviceType { other, integrated_gpu, discrete_gpu, virtual_gpu, cpu };

struct MemoryHeap {
    uint64_t size = 0;
    bool device_local = false;
};

struct DeviceInfo {
    uint32_t index = 0;  // position in the instance's device list: what `--device N` selects
    std::string name;
    DeviceType type = DeviceType::other;
    uint32_t vendor_id = 0;
    uint32_t device_id = 0;
    uint32_t api_version = 0;  // VK_MAKE_API_VERSION encoding
    uint32_t driver_version = 0;  // vendor-specific encoding
    std::string driver_name;   // e.g. "llvmpipe"
    std::string driver_info;   // e.g. "Mesa 22.3.6 (LLVM 15.0.6)"

    std::vector<MemoryHeap> heaps;
    // One memory is both device-local and host-visible (integrated GPUs, lavapipe): buffers can
    // be mapped directly and uploads skip the staging copy.
    bool uma = false;

    uint32_t subgroup_size = 0;
    uint32_t min_subgroup_size = 0;  // equal to subgroup_size without subgroup size control
    uint32_t max_subgroup_size = 0;
    bool subgroup_arithmetic = false;  // in compute shaders
    bool subgroup_shuffle = false;
    std::array<uint32_t, 3> max_workgroup_size{};
    std::array<uint32_t, 3> max_workgroup_count{};
    uint32_t max_workgroup_invocations = 0;
    uint32_t max_shared_memory = 0;  // bytes per workgroup
    uint32_t max_push_constants = 0;  // bytes
    uint64_t max_storage_buffer_range = 0;   // the most bytes one binding may span
    uint64_t max_memory_allocation_size = 0;  // the largest single allocation (0: not reported)
    uint64_t min_storage_buffer_offset_alignment = 0;
    uint64_t non_coherent_atom_size = 0;  // granularity of flush/invalidate
    float timestamp_period_ns = 0;  // nanoseconds per timestamp tick

    bool has_compute_queue = false;
    bool shader_fp16 = false;
    bool shader_int8 = false;
    bool storage_16bit = false;  // 16-bit types in storage buffers
    bool storage_8bit = false;
    bool integer_dot_product = false;  // VK_KHR_shader_integer_dot_product / Vulkan 1.3
    // Signed packed 4x8-bit dots run in hardware: quantized matmuls use them (MatmulKernel::idot).
    bool integer_dot_accelerated = false;
    bool cooperative_matrix = false;   // VK_KHR_cooperative_matrix or VK_NV_cooperative_matrix

    // The device's class and the kernel sizes its row of the table gives (kernel_shapes.h).
    DeviceClass device_class = DeviceClass::other;
    KernelShapes shapes = kernel_shapes(DeviceClass::other);

    // Not a property of the device but VulkanOptions::matmul_kernel, carried here because
    // DeviceInfo is what every op's supports() and recording sees. Queries leave it automatic.
    MatmulKernel matmul_kernel = MatmulKernel::automatic;
    // VulkanOptions::fuse, carried the same way (backends/vulkan/fusion.h).
    bool fuse = true;

    // kiln runs on devices with Vulkan 1.2 and a compute queue.
    bool usable() const { return api_version >= VK_API_VERSION_1_2 && has_compute_queue; }
};

// `instance_api` caps which property structures may be queried (the lower of it and the
// device's version applies).
DeviceInfo query_device_info(VkPhysicalDevice device, uint32_t index, uint32_t instance_api);

// Names of the extensions the device supports.
std::vector<std::string> device_extensions(VkPhysicalDevice device);

const char* to_string(DeviceType type);
std::string version_string(uint32_t api_version);  // "1.3.230"

// "0: llvmpipe (LLVM 15.0.6, 256 bits) [cpu, Vulkan 1.3.230, llvmpipe Mesa 22.3.6]" and then
// indented lines with memory, limits and features. No trailing newline.
std::string describe(const DeviceInfo& info);

// What the device can hold: its largest device-local heap; on a device that shares host memory
// (integrated GPUs, lavapipe) no more than the host has available.
MemoryLimit device_memory_limit(const DeviceInfo& info);

// The device to use: `requested` (an index) when given, else the best usable device
// (discrete > integrated > virtual > cpu > other, first on ties). Throws kiln::Error when the
// index is out of range, the device is unusable, or no device is usable.
uint32_t select_device(const std::vector<DeviceInfo>& devices, std::optional<uint32_t> requested);

}  // namespace kiln::vk
