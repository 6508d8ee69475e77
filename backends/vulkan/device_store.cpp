#include "backends/vulkan/device_store.h"

#include <algorithm>
#include <cstring>

#include "backends/vulkan/commands.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/transfer.h"
#include "graph/error.h"

namespace kiln::vk {
namespace {

constexpr uint64_t kBlockBytes = uint64_t{1} << 30;   // weights share blocks of up to 1 GiB
constexpr uint64_t kStagingBytes = uint64_t{64} << 20;

uint64_t round_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Every binding offset kiln makes is a multiple of this (and of the device's requirement).
uint64_t slice_alignment(const Device& device) {
    return std::max<uint64_t>(256, device.info().min_storage_buffer_offset_alignment);
}

uint64_t max_allocation(const Device& device) {
    const uint64_t reported = device.info().max_memory_allocation_size;
    return reported ? reported : kBlockBytes;  // Vulkan 1.1 guarantees at least 1 GiB
}

}  // namespace

WeightStore::WeightStore(const Device& device) : device_(device) {
    block_size_ = std::min(kBlockBytes, max_allocation(device));
}

WeightStore::~WeightStore() = default;

std::optional<DeviceSlice> WeightStore::slice_of(const void* data) const {
    std::lock_guard lock(placed_mutex_);
    const auto it = placed_.find(data);
    if (it == placed_.end()) return std::nullopt;
    return it->second;
}

DeviceSlice WeightStore::get(const void* data, uint64_t bytes) const {
    const std::optional<DeviceSlice> s = slice_of(data);
    if (!s || s->size < bytes) throw Error("Vulkan: a weight of " + std::to_string(bytes) + " bytes was not uploaded");
    return *s;
}

void WeightStore::forget(const void* begin, const void* end) {
    std::lock_guard lock(placed_mutex_);
    placed_.erase(placed_.lower_bound(begin), placed_.lower_bound(end));
}

uint64_t WeightStore::group_footprint(std::span<const Pending> group) const {
    const uint64_t align = slice_alignment(device_);
    uint64_t total = 0;
    for (const Pending& w : group) total = round_up(total, align) + round_up(std::max<uint64_t>(w.bytes, 4), 16);
    return total + align;  // the group's start is aligned too
}

bool WeightStore::placeable_together(std::span<const Pending> group, uint64_t max_range) const {
    size_t placed = 0;
    for (size_t i = 0; i < group.size(); ++i) {
        placed += contains(group[i].data) ? 1 : 0;
        for (size_t j = 0; j < i; ++j) {
            if (group[j].data == group[i].data) return false;
        }
    }
    if (placed == 0) {
        const uint64_t footprint = group_footprint(group);
        return footprint <= block_size_ && footprint <= max_range;
    }
    if (placed != group.size()) return false;
    const Buffer* buffer = get(group.front().data, 0).buffer;
    uint64_t first = UINT64_MAX, end = 0;
    for (const Pending& w : group) {
        const DeviceSlice s = get(w.data, 0);
        if (s.buffer != buffer) return false;
        first = std::min<uint64_t>(first, s.offset);
        end = std::max<uint64_t>(end, s.offset + w.bytes);
    }
    return end - first + slice_alignment(device_) <= max_range;
}

DeviceSlice WeightStore::allocate(uint64_t bytes, const std::string& name, uint64_t reserve) {
    const uint64_t align = slice_alignment(device_);
    const uint64_t size = round_up(std::max<uint64_t>(bytes, 4), 16);
    if (size > max_allocation(device_)) {
        throw Error("Vulkan: weight " + name + " (" + std::to_string(bytes) + " bytes) exceeds the device " +
                    device_.info().name + "'s largest allocation of " + std::to_string(max_allocation(device_)) +
                    " bytes");
    }
    if (size > block_size_) {
        // Larger than a shared block: a buffer of its own, kept before the current block.
        auto own = std::make_unique<Buffer>(device_, size, MemoryUse::device, MemoryPurpose::weights);
        const Buffer* b = own.get();
        blocks_.insert(blocks_.empty() ? blocks_.end() : blocks_.end() - 1, std::move(own));
        return {b, 0, bytes};
    }
    uint64_t offset = round_up(block_used_, align);
    if (blocks_.empty() || offset + std::max(size, reserve) > blocks_.back()->size()) {
        // Only as large as what is left to upload needs (a small model does not take 1 GiB).
        const uint64_t bytes = std::min(block_size_, std::max({size, reserve, pending_bytes_}));
        blocks_.push_back(std::make_unique<Buffer>(device_, bytes, MemoryUse::device, MemoryPurpose::weights));
        offset = 0;
    }
    block_used_ = offset + size;
    return {blocks_.back().get(), offset, bytes};
}

void WeightStore::upload(const std::vector<Pending>& weights, const UploadProgress& progress) {
    uint64_t total = 0;
    for (const Pending& w : weights) total += contains(w.data) ? 0 : w.bytes;
    if (total == 0) return;
    uint64_t done = 0;
    pending_bytes_ = 0;
    const uint64_t align = slice_alignment(device_);
    for (const Pending& w : weights) {
        if (!contains(w.data)) pending_bytes_ += round_up(std::max<uint64_t>(w.bytes, 4), 16) + align;
    }
    for (const Pending& w : weights) {
        if (contains(w.data)) continue;
        const DeviceSlice slice = allocate(w.bytes, w.name, w.group_bytes);
        const auto* src = static_cast<const std::byte*>(w.data);
        if (slice.buffer->mapped()) {
            vk::upload(device_, *slice.buffer, std::span(src, w.bytes), slice.offset);
        } else {
            if (!staging_) staging_ = std::make_unique<Buffer>(device_, kStagingBytes, MemoryUse::upload, MemoryPurpose::weights);
            for (uint64_t at = 0; at < w.bytes; at += kStagingBytes) {
                const uint64_t n = std::min(kStagingBytes, w.bytes - at);
                std::memcpy(staging_->mapped(), src + at, n);
                staging_->flush(0, n);
                CommandBuffer commands(device_);
                commands.begin();
                commands.copy(*staging_, *slice.buffer, n, 0, slice.offset + at);
                commands.barrier(Barrier::transfer_to_compute);
                commands.end();
                commands.submit_and_wait();
                if (progress) progress(done + at + n, total);
            }
        }
        {
            std::lock_guard lock(placed_mutex_);
            placed_[w.data] = slice;
        }
        pending_bytes_ -= round_up(std::max<uint64_t>(w.bytes, 4), 16) + align;
        used_ += w.bytes;
        done += w.bytes;
        if (progress) progress(done, total);
    }
}

const Buffer& StateBuffers::get(const std::string& name, uint64_t bytes) {
    const auto it = buffers_.find(name);
    if (it != buffers_.end()) {
        if (it->second->size() != round_up(std::max<uint64_t>(bytes, 4), 16)) {
            throw Error("Vulkan: state " + name + " exists with " + std::to_string(it->second->size()) +
                        " bytes, a graph wants " + std::to_string(bytes));
        }
        return *it->second;
    }
    auto buffer = std::make_unique<Buffer>(device_, round_up(std::max<uint64_t>(bytes, 4), 16), MemoryUse::device,
                                           MemoryPurpose::kv_cache);
    CommandBuffer commands(device_);
    commands.begin();
    commands.fill(*buffer, 0);
    commands.barrier(Barrier::any_to_compute);
    commands.end();
    commands.submit_and_wait();
    return *buffers_.emplace(name, std::move(buffer)).first->second;
}

void StateBuffers::release(std::string_view prefix) {
    for (auto it = buffers_.begin(); it != buffers_.end();) {
        it = std::string_view(it->first).starts_with(prefix) ? buffers_.erase(it) : std::next(it);
    }
}

}  // namespace kiln::vk
