#include "backends/vulkan/timestamps.h"

#include <utility>

#include "backends/vulkan/device.h"
#include "graph/error.h"

namespace kiln::vk {

TimestampQueries::TimestampQueries(const Device& device, uint32_t count) : device_(&device), count_(count) {
    if (!device.queue_timestamps()) throw Error("Vulkan device " + device.info().name + " has no compute timestamps");
    if (count == 0) throw Error("a timestamp query pool needs at least one query");
    VkQueryPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = count;
    check(device.vk().vkCreateQueryPool(device.handle(), &info, nullptr, &pool_), "vkCreateQueryPool");
}

TimestampQueries::~TimestampQueries() { release(); }

TimestampQueries::TimestampQueries(TimestampQueries&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      pool_(std::exchange(other.pool_, VK_NULL_HANDLE)),
      count_(std::exchange(other.count_, 0)) {}

TimestampQueries& TimestampQueries::operator=(TimestampQueries&& other) noexcept {
    if (this != &other) {
        release();
        device_ = std::exchange(other.device_, nullptr);
        pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
        count_ = std::exchange(other.count_, 0);
    }
    return *this;
}

void TimestampQueries::release() {
    if (device_ && pool_ != VK_NULL_HANDLE) device_->vk().vkDestroyQueryPool(device_->handle(), pool_, nullptr);
    device_ = nullptr;
    pool_ = VK_NULL_HANDLE;
    count_ = 0;
}

std::vector<double> TimestampQueries::read_ns() const {
    std::vector<uint64_t> ticks(count_);
    device_->check_alive();
    device_->check(device_->vk().vkGetQueryPoolResults(device_->handle(), pool_, 0, count_, ticks.size() * sizeof(uint64_t),
                                              ticks.data(), sizeof(uint64_t),
                                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
    const double period = device_->info().timestamp_period_ns;
    std::vector<double> ns(count_);
    for (uint32_t i = 0; i < count_; ++i) ns[i] = static_cast<double>(ticks[i] - ticks[0]) * period;
    return ns;
}

}  // namespace kiln::vk
