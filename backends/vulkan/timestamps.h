#pragma once
// A pool of GPU timestamp queries, for timing kernels: CommandBuffer::reset_queries and
// write_timestamp record them; read_ns() reads them after the submission has finished.
#include <cstdint>
#include <vector>

#include "backends/vulkan/api.h"

namespace kiln::vk {

class Device;

class TimestampQueries {
public:
    TimestampQueries() = default;
    // Throws kiln::Error when the device's compute queue has no timestamps.
    TimestampQueries(const Device& device, uint32_t count);
    ~TimestampQueries();
    TimestampQueries(TimestampQueries&& other) noexcept;
    TimestampQueries& operator=(TimestampQueries&& other) noexcept;
    TimestampQueries(const TimestampQueries&) = delete;
    TimestampQueries& operator=(const TimestampQueries&) = delete;

    VkQueryPool handle() const { return pool_; }
    uint32_t count() const { return count_; }

    // Nanoseconds from query 0 to each query (so element 0 is 0). Every query must have been
    // written by a finished submission.
    std::vector<double> read_ns() const;

private:
    void release();

    const Device* device_ = nullptr;
    VkQueryPool pool_ = VK_NULL_HANDLE;
    uint32_t count_ = 0;
};

}  // namespace kiln::vk
