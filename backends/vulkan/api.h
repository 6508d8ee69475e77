#pragma once
// The one way kiln code reaches Vulkan: volk's function pointers (no link-time libvulkan, so a
// machine without a Vulkan loader still runs the CPU backend), and VkResult checking.
// Device-level functions go through Device::vk() (a per-device table), never volk's globals.
#include <volk.h>

namespace kiln::vk {

// Loads the Vulkan loader library once per process. Throws kiln::Error when it is missing.
void load_vulkan_loader();

// Throws kiln::Error "Vulkan: <call> failed: VK_ERROR_..." when `result` is an error code.
void check(VkResult result, const char* call);

const char* result_name(VkResult result);

}  // namespace kiln::vk
