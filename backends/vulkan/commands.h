#pragma once
// Recording and submitting work on the compute queue: a command pool, one command buffer and
// its fence. Record once with begin()/.../end(); submit() and wait() as often as needed (a
// recording can be replayed unchanged, e.g. once per token).
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "backends/vulkan/api.h"

namespace kiln::vk {

class Buffer;
class ComputePipeline;
class Device;
class TimestampQueries;

// Memory dependencies between the steps kiln records. Each makes the writes of the first kind of
// work visible to the second (and orders them, so later writes cannot race earlier reads).
enum class Barrier {
    compute_to_compute,   // a kernel reads what an earlier kernel wrote
    transfer_to_compute,  // a kernel reads what a copy wrote
    compute_to_transfer,  // a copy reads what a kernel wrote
    to_host,              // the host reads (after wait()) what kernels or copies wrote
    any_to_compute,       // kernels read what earlier kernels or copies (e.g. a previous submit) wrote
    // The end of a graph's step: the host (after wait()) and the kernels and copies of later
    // submissions see what its kernels and copies wrote, and run after them.
    step_end,
};

// Workgroups to cover `items` with `workgroup_size` invocations each, capped at `max_groups`
// (kernels grid-stride over the rest).
uint32_t group_count(uint64_t items, uint32_t workgroup_size, uint32_t max_groups);

class CommandBuffer {
public:
    CommandBuffer() = default;
    explicit CommandBuffer(const Device& device);
    // Waits for submitted work before destroying it (at most a few seconds on a lost device).
    ~CommandBuffer();
    CommandBuffer(CommandBuffer&& other) noexcept;
    CommandBuffer& operator=(CommandBuffer&& other) noexcept;
    CommandBuffer(const CommandBuffer&) = delete;
    CommandBuffer& operator=(const CommandBuffer&) = delete;

    // Starts a new recording, discarding the previous one (waiting first if it is pending).
    void begin();
    void end();

    // Binds `pipeline` and `set`, pushes `push` (exactly the pipeline's push constant size) and
    // dispatches groups. Throws kiln::Error on a size mismatch or too many groups.
    void dispatch(const ComputePipeline& pipeline, VkDescriptorSet set, std::span<const std::byte> push,
                  uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1);
    template <typename Push>
        requires std::is_trivially_copyable_v<Push>
    void dispatch(const ComputePipeline& pipeline, VkDescriptorSet set, const Push& push, uint32_t groups_x,
                  uint32_t groups_y = 1, uint32_t groups_z = 1) {
        dispatch(pipeline, set, std::as_bytes(std::span(&push, 1)), groups_x, groups_y, groups_z);
    }

    void copy(const Buffer& src, const Buffer& dst, VkDeviceSize bytes, VkDeviceSize src_offset = 0,
              VkDeviceSize dst_offset = 0);
    // Sets `bytes` (a multiple of 4, or VK_WHOLE_SIZE) from `offset` to copies of `value`.
    void fill(const Buffer& dst, uint32_t value, VkDeviceSize offset = 0, VkDeviceSize bytes = VK_WHOLE_SIZE);
    void barrier(Barrier kind);

    // Timestamps: reset the queries inside the recording before writing them; a timestamp is
    // taken when all earlier commands have finished.
    void reset_queries(const TimestampQueries& queries);
    void write_timestamp(const TimestampQueries& queries, uint32_t index);

    // Submit and wait fail with the device's DeviceError (device_error.h) once it is lost, and
    // fail fast from then on: wait() never blocks on a lost device.
    void submit();
    void wait();
    void submit_and_wait();
    bool pending() const { return pending_; }
    // Waits for pending work (briefly on a lost device) and frees everything now: for owners
    // whose other members the pending work still uses.
    void reset();

    VkCommandBuffer handle() const { return buffer_; }

private:
    void release();

    const Device* device_ = nullptr;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer buffer_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    bool recording_ = false;
    bool recorded_ = false;
    bool pending_ = false;
};

}  // namespace kiln::vk
