#pragma once
// Moving bytes between host memory and buffers. Host-visible buffers (UMA devices, staging) are
// written or read directly; others go through a temporary staging buffer and a copy. Both calls
// block until done, so they suit setup (weights, test data), not per-token work.
#include <cstddef>
#include <span>

#include "backends/vulkan/api.h"

namespace kiln::vk {

class Buffer;
class Device;

// Writes `data` into `dst` at `offset`. Kernels submitted later see it.
void upload(const Device& device, const Buffer& dst, std::span<const std::byte> data, VkDeviceSize offset = 0);

// Reads `out.size()` bytes of `src` from `offset` into `out`, after all work submitted before
// has finished writing them.
void download(const Device& device, const Buffer& src, std::span<std::byte> out, VkDeviceSize offset = 0);

}  // namespace kiln::vk
