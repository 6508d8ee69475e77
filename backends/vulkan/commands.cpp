#include "backends/vulkan/commands.h"

#include <algorithm>
#include <string>
#include <utility>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/fault_injection.h"
#include "backends/vulkan/pipeline.h"
#include "backends/vulkan/timestamps.h"
#include "graph/error.h"

namespace kiln::vk {
namespace {

// How long a destructor waits for work submitted to a lost device. A really lost device answers
// at once; an injected loss (fault_injection.h) leaves real work running that must finish
// before its objects go.
constexpr uint64_t kLostDeviceWaitNs = 5'000'000'000;

}  // namespace

uint32_t group_count(uint64_t items, uint32_t workgroup_size, uint32_t max_groups) {
    const uint64_t groups = (items + workgroup_size - 1) / workgroup_size;
    return static_cast<uint32_t>(std::clamp<uint64_t>(groups, 1, max_groups));
}

CommandBuffer::CommandBuffer(const Device& device) : device_(&device) {
    const auto& vk = device.vk();
    try {
        VkCommandPoolCreateInfo pool_info{};
        pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
        pool_info.queueFamilyIndex = device.queue_family();
        check(vk.vkCreateCommandPool(device.handle(), &pool_info, nullptr, &pool_), "vkCreateCommandPool");

        VkCommandBufferAllocateInfo buffer_info{};
        buffer_info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
        buffer_info.commandPool = pool_;
        buffer_info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        buffer_info.commandBufferCount = 1;
        check(vk.vkAllocateCommandBuffers(device.handle(), &buffer_info, &buffer_), "vkAllocateCommandBuffers");

        VkFenceCreateInfo fence_info{};
        fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
        check(vk.vkCreateFence(device.handle(), &fence_info, nullptr, &fence_), "vkCreateFence");
    } catch (...) {
        release();
        throw;
    }
}

CommandBuffer::~CommandBuffer() { release(); }

CommandBuffer::CommandBuffer(CommandBuffer&& other) noexcept { *this = std::move(other); }

CommandBuffer& CommandBuffer::operator=(CommandBuffer&& other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
        buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
        fence_ = std::exchange(other.fence_, VK_NULL_HANDLE);
        recording_ = std::exchange(other.recording_, false);
        recorded_ = std::exchange(other.recorded_, false);
        pending_ = std::exchange(other.pending_, false);
    }
    return *this;
}

void CommandBuffer::reset() { release(); }

void CommandBuffer::release() {
    if (!device_) return;
    const auto& vk = device_->vk();
    // Destroying a command buffer or fence the GPU still uses is undefined; errors cannot
    // propagate from a destructor, so a lost device just proceeds to destruction after a
    // bounded wait.
    if (pending_) {
        vk.vkWaitForFences(device_->handle(), 1, &fence_, VK_TRUE, device_->lost() ? kLostDeviceWaitNs : UINT64_MAX);
    }
    if (fence_ != VK_NULL_HANDLE) vk.vkDestroyFence(device_->handle(), fence_, nullptr);
    // Destroying the pool frees its command buffer.
    if (pool_ != VK_NULL_HANDLE) vk.vkDestroyCommandPool(device_->handle(), pool_, nullptr);
    device_ = nullptr;
    pool_ = VK_NULL_HANDLE;
    buffer_ = VK_NULL_HANDLE;
    fence_ = VK_NULL_HANDLE;
    pending_ = recording_ = recorded_ = false;
}

void CommandBuffer::begin() {
    device_->check_alive();
    if (pending_) wait();
    const auto& vk = device_->vk();
    check(vk.vkResetCommandPool(device_->handle(), pool_, 0), "vkResetCommandPool");
    VkCommandBufferBeginInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    check(vk.vkBeginCommandBuffer(buffer_, &info), "vkBeginCommandBuffer");
    recording_ = true;
    recorded_ = false;
}

void CommandBuffer::end() {
    if (!recording_) throw Error("Vulkan command buffer: end() without begin()");
    check(device_->vk().vkEndCommandBuffer(buffer_), "vkEndCommandBuffer");
    recording_ = false;
    recorded_ = true;
}

void CommandBuffer::dispatch(const ComputePipeline& pipeline, VkDescriptorSet set, std::span<const std::byte> push,
                             uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) {
    if (!recording_) throw Error("Vulkan command buffer: dispatch outside begin()/end()");
    if (push.size() != pipeline.push_constant_bytes()) {
        throw Error("pipeline '" + pipeline.shader() + "' takes " + std::to_string(pipeline.push_constant_bytes()) +
                    " push constant bytes, got " + std::to_string(push.size()));
    }
    const auto& max = device_->info().max_workgroup_count;
    if (groups_x > max[0] || groups_y > max[1] || groups_z > max[2]) {
        throw Error("pipeline '" + pipeline.shader() + "': dispatch of " + std::to_string(groups_x) + "x" +
                    std::to_string(groups_y) + "x" + std::to_string(groups_z) +
                    " workgroups exceeds the device's limit");
    }
    const auto& vk = device_->vk();
    vk.vkCmdBindPipeline(buffer_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle());
    vk.vkCmdBindDescriptorSets(buffer_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0, 1, &set, 0, nullptr);
    if (!push.empty()) {
        vk.vkCmdPushConstants(buffer_, pipeline.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                              static_cast<uint32_t>(push.size()), push.data());
    }
    vk.vkCmdDispatch(buffer_, groups_x, groups_y, groups_z);
}

void CommandBuffer::copy(const Buffer& src, const Buffer& dst, VkDeviceSize bytes, VkDeviceSize src_offset,
                         VkDeviceSize dst_offset) {
    if (!recording_) throw Error("Vulkan command buffer: copy outside begin()/end()");
    if (src_offset + bytes > src.size() || dst_offset + bytes > dst.size()) {
        throw Error("Vulkan copy of " + std::to_string(bytes) + " bytes exceeds a buffer's size");
    }
    const VkBufferCopy region{src_offset, dst_offset, bytes};
    device_->vk().vkCmdCopyBuffer(buffer_, src.handle(), dst.handle(), 1, &region);
}

void CommandBuffer::fill(const Buffer& dst, uint32_t value, VkDeviceSize offset, VkDeviceSize bytes) {
    if (!recording_) throw Error("Vulkan command buffer: fill outside begin()/end()");
    device_->vk().vkCmdFillBuffer(buffer_, dst.handle(), offset, bytes, value);
}

void CommandBuffer::barrier(Barrier kind) {
    if (!recording_) throw Error("Vulkan command buffer: barrier outside begin()/end()");
    VkPipelineStageFlags src_stage = 0;
    VkPipelineStageFlags dst_stage = 0;
    VkMemoryBarrier memory{};
    memory.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    switch (kind) {
        case Barrier::compute_to_compute:
            src_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
            dst_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
            memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
            break;
        case Barrier::transfer_to_compute:
            src_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
            dst_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
            memory.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
            break;
        case Barrier::compute_to_transfer:
            src_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
            dst_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
            memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            break;
        case Barrier::any_to_compute:
            src_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
            dst_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
            memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
            break;
        case Barrier::to_host:
            src_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
            dst_stage = VK_PIPELINE_STAGE_HOST_BIT;
            memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
            break;
        case Barrier::step_end:
            src_stage = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
            dst_stage = VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
            memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            memory.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                   VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            break;
    }
    device_->vk().vkCmdPipelineBarrier(buffer_, src_stage, dst_stage, 0, 1, &memory, 0, nullptr, 0, nullptr);
}

void CommandBuffer::reset_queries(const TimestampQueries& queries) {
    if (!recording_) throw Error("Vulkan command buffer: reset_queries outside begin()/end()");
    device_->vk().vkCmdResetQueryPool(buffer_, queries.handle(), 0, queries.count());
}

void CommandBuffer::write_timestamp(const TimestampQueries& queries, uint32_t index) {
    if (!recording_) throw Error("Vulkan command buffer: write_timestamp outside begin()/end()");
    if (index >= queries.count()) {
        throw Error("timestamp query " + std::to_string(index) + " is out of range (" +
                    std::to_string(queries.count()) + " queries)");
    }
    device_->vk().vkCmdWriteTimestamp(buffer_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries.handle(), index);
}

void CommandBuffer::submit() {
    device_->check_alive();  // first: after a failed wait the submission still counts as pending
    if (!recorded_) throw Error("Vulkan command buffer: submit() needs a finished recording (begin/end)");
    if (pending_) throw Error("Vulkan command buffer: submit() while the previous submission is pending");
    const auto& vk = device_->vk();
    check(vk.vkResetFences(device_->handle(), 1, &fence_), "vkResetFences");
    VkSubmitInfo info{};
    info.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    info.commandBufferCount = 1;
    info.pCommandBuffers = &buffer_;
    // A failed submit submits nothing (the fence stays unsignalled), so nothing is pending.
    const VkResult result = detail::fault_now(testing::FaultPoint::queue_submit)
                                ? VK_ERROR_DEVICE_LOST
                                : vk.vkQueueSubmit(device_->queue(), 1, &info, fence_);
    device_->check(result, "vkQueueSubmit");
    pending_ = true;
}

void CommandBuffer::wait() {
    if (!pending_) return;
    // Never an endless wait on a device known to be lost: fail at once (release() waits briefly).
    device_->check_alive();
    const VkResult result = detail::fault_now(testing::FaultPoint::wait_for_fences)
                                ? VK_ERROR_DEVICE_LOST
                                : device_->vk().vkWaitForFences(device_->handle(), 1, &fence_, VK_TRUE, UINT64_MAX);
    // Only a successful wait ends the submission; after a failed one the work may still be
    // running (an injected loss), so release() waits for it, boundedly.
    if (result == VK_SUCCESS) pending_ = false;
    device_->check(result, "vkWaitForFences");
}

void CommandBuffer::submit_and_wait() {
    submit();
    wait();
}

}  // namespace kiln::vk
