#pragma once
// Device memory that outlives one compiled graph: the model's weights, uploaded once and
// sub-allocated from large blocks, and State tensors (the KV cache) by name, zero-initialised
// and shared by every graph the backend compiles.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/vulkan/buffer.h"

namespace kiln::vk {

class Device;

// Bytes of one buffer: where a weight or a state tensor lives.
struct DeviceSlice {
    const Buffer* buffer = nullptr;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
};

// Called with bytes uploaded so far and the total of the current batch.
using UploadProgress = std::function<void(uint64_t done, uint64_t total)>;

class WeightStore {
public:
    explicit WeightStore(const Device& device);
    ~WeightStore();
    WeightStore(const WeightStore&) = delete;
    WeightStore& operator=(const WeightStore&) = delete;

    // The weight at host address `data` (`bytes` long), uploading it on first use. The same host
    // bytes are uploaded once however many graphs use them.
    DeviceSlice get(const void* data, uint64_t bytes) const;
    bool contains(const void* data) const { return slice_of(data).has_value(); }
    // The host bytes [begin, end) are being freed: their uploads no longer stand for what a later
    // allocation at those addresses holds (graph/host_release.h). The device memory stays with
    // the store until it is destroyed.
    void forget(const void* begin, const void* end);

    // Uploads every weight of `weights` not yet on the device, reporting progress over the batch.
    // A weight whose group_bytes is nonzero starts a group: it and the weights after it, up to
    // that footprint (group_footprint), go one after another into one block.
    struct Pending {
        const void* data;
        uint64_t bytes;
        std::string name;  // for error messages
        uint64_t group_bytes = 0;
    };
    void upload(const std::vector<Pending>& weights, const UploadProgress& progress);

    // Bytes of block a group of weights takes, alignment included.
    uint64_t group_footprint(std::span<const Pending> group) const;
    // Whether `group` can be bound as one range of at most `max_range` bytes: all uploaded into
    // one buffer within it, or none uploaded yet and small enough for one block and the range.
    bool placeable_together(std::span<const Pending> group, uint64_t max_range) const;

    uint64_t bytes() const { return used_; }

private:
    std::optional<DeviceSlice> slice_of(const void* data) const;
    // `reserve` (>= bytes): room the current block must have left, or a new one starts.
    DeviceSlice allocate(uint64_t bytes, const std::string& name, uint64_t reserve);

    const Device& device_;
    uint64_t block_size_ = 0;
    std::vector<std::unique_ptr<Buffer>> blocks_;
    VkDeviceSize block_used_ = 0;  // of blocks_.back()
    uint64_t pending_bytes_ = 0;   // footprint of the weights upload() has still to place
    std::map<const void*, DeviceSlice> placed_;
    mutable std::mutex placed_mutex_;  // forget() runs on whichever thread frees a model
    std::unique_ptr<Buffer> staging_;  // reused for every upload on non-UMA devices
    uint64_t used_ = 0;
};

class StateBuffers {
public:
    explicit StateBuffers(const Device& device) : device_(device) {}
    // The zero-initialised buffer of state `name`; throws kiln::Error when it exists with another
    // size.
    const Buffer& get(const std::string& name, uint64_t bytes);
    void release(std::string_view prefix);

private:
    const Device& device_;
    std::map<std::string, std::unique_ptr<Buffer>, std::less<>> buffers_;
};

}  // namespace kiln::vk
