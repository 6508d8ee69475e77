#include "backends/vulkan/memory_pool.h"

#include <algorithm>

#include "backends/vulkan/device.h"
#include "backends/vulkan/fault_injection.h"
#include "graph/free_ranges.h"

namespace kiln::vk {

// One memory object, its free ranges and how many buffers it holds.
struct MemoryPool::Block {
    Allocation memory;
    FreeRanges free;
    uint64_t buffers = 0;
};

MemoryPool::MemoryPool(const Device& device) : device_(device) {
    const uint64_t max = device.info().max_memory_allocation_size;
    if (max) block_bytes_ = std::min(block_bytes_, max);
}

MemoryPool::~MemoryPool() {
    for (auto& b : blocks_) free_memory(device_, b->memory);
}

Allocation MemoryPool::allocate(const VkMemoryRequirements& requirements, MemoryUse use, MemoryPurpose purpose) {
    device_.check_alive();
    const std::lock_guard lock(mutex_);
    const auto count = [&](const Allocation& a) {
        use_.buffer_bytes[static_cast<size_t>(purpose)] += a.size;
        return a;
    };
    const auto fresh = [&](VkMemoryRequirements r) {
        Allocation a = allocate_memory(device_, r, use, purpose);
        ++use_.allocations;
        use_.allocated_bytes += a.size;
        return a;
    };
    if (detail::fault_now(testing::FaultPoint::allocate_memory, purpose)) {
        throw_out_of_memory(device_, requirements.size, choose_memory_type(device_, requirements.memoryTypeBits, use),
                            purpose);
    }
    if (requirements.size > block_bytes_ / 4) {
        Allocation a = fresh(requirements);
        a.purpose = purpose;
        return count(a);
    }
    const uint32_t type = choose_memory_type(device_, requirements.memoryTypeBits, use);
    // Buffers start on 256 bytes at least, as a memory object of their own would (cache lines,
    // and the offset alignment every binding kiln makes uses).
    const VkDeviceSize alignment = std::max<VkDeviceSize>(requirements.alignment, 256);
    const auto carve = [&](Block& b, VkDeviceSize at) {
        Allocation a = b.memory;
        a.offset = at;
        a.size = requirements.size;
        a.mapped = b.memory.mapped ? static_cast<char*>(b.memory.mapped) + at : nullptr;
        a.block = &b;
        ++b.buffers;
        a.purpose = purpose;
        return count(a);
    };
    for (auto& b : blocks_) {
        if (b->memory.type_index != type) continue;
        if (const auto at = b->free.take(requirements.size, alignment)) return carve(*b, *at);
    }
    VkMemoryRequirements whole = requirements;
    whole.size = block_bytes_;
    whole.memoryTypeBits = 1u << type;
    auto block = std::make_unique<Block>();
    block->memory = fresh(whole);
    block->free.release(0, block_bytes_);
    Block& b = *blocks_.emplace_back(std::move(block));
    return carve(b, *b.free.take(requirements.size, alignment));
}

void MemoryPool::free(Allocation& allocation) {
    if (allocation.memory == VK_NULL_HANDLE) return;
    const std::lock_guard lock(mutex_);
    use_.buffer_bytes[static_cast<size_t>(allocation.purpose)] -= allocation.size;
    auto* block = static_cast<Block*>(allocation.block);
    if (!block) {
        --use_.allocations;
        use_.allocated_bytes -= allocation.size;
        free_memory(device_, allocation);
        return;
    }
    block->free.release(allocation.offset, allocation.size);
    --block->buffers;
    allocation = Allocation{};
    if (block->buffers == 0) {
        --use_.allocations;
        use_.allocated_bytes -= block->memory.size;
        free_memory(device_, block->memory);
        blocks_.erase(std::find_if(blocks_.begin(), blocks_.end(), [&](const auto& b) { return b.get() == block; }));
    }
}

MemoryPoolUse MemoryPool::use() const {
    const std::lock_guard lock(mutex_);
    return use_;
}

}  // namespace kiln::vk
