#include "backends/vulkan/transfer.h"

#include <cstring>
#include <string>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/commands.h"
#include "backends/vulkan/device.h"
#include "graph/error.h"

namespace kiln::vk {

namespace {

void check_range(const Buffer& buffer, VkDeviceSize offset, size_t bytes, const char* what) {
    if (offset > buffer.size() || bytes > buffer.size() - offset) {
        throw Error(std::string("Vulkan ") + what + " of " + std::to_string(bytes) + " bytes at offset " +
                    std::to_string(offset) + " exceeds the buffer's " + std::to_string(buffer.size()) + " bytes");
    }
}

}  // namespace

void upload(const Device& device, const Buffer& dst, std::span<const std::byte> data, VkDeviceSize offset) {
    check_range(dst, offset, data.size(), "upload");
    if (data.empty()) return;
    if (dst.mapped()) {
        // vkQueueSubmit makes earlier host writes visible to the device; only non-coherent
        // memory needs the flush.
        std::memcpy(dst.mapped() + offset, data.data(), data.size());
        dst.flush(offset, data.size());
        return;
    }
    Buffer staging(device, data.size(), MemoryUse::upload);
    std::memcpy(staging.mapped(), data.data(), data.size());
    staging.flush();
    CommandBuffer commands(device);
    commands.begin();
    commands.copy(staging, dst, data.size(), 0, offset);
    // Orders the copy before kernels of later submissions on the queue.
    commands.barrier(Barrier::transfer_to_compute);
    commands.end();
    commands.submit_and_wait();
}

void download(const Device& device, const Buffer& src, std::span<std::byte> out, VkDeviceSize offset) {
    check_range(src, offset, out.size(), "download");
    if (out.empty()) return;
    // Declared first so that it outlives the command buffer, whose destructor may still wait
    // for the copy into it (after a failed wait).
    Buffer staging;
    CommandBuffer commands(device);
    commands.begin();
    if (src.mapped()) {
        // Kernel writes reach the host only through a barrier to the host stage followed by a
        // fence wait; one submission of just that barrier covers all earlier work on the queue.
        commands.barrier(Barrier::to_host);
        commands.end();
        commands.submit_and_wait();
        src.invalidate(offset, out.size());
        std::memcpy(out.data(), src.mapped() + offset, out.size());
        return;
    }
    staging = Buffer(device, out.size(), MemoryUse::readback);
    commands.barrier(Barrier::compute_to_transfer);
    commands.copy(src, staging, out.size(), offset, 0);
    commands.barrier(Barrier::to_host);
    commands.end();
    commands.submit_and_wait();
    staging.invalidate();
    std::memcpy(out.data(), staging.mapped(), out.size());
}

}  // namespace kiln::vk
