#pragma once
// Device memory for buffers, carved from large blocks so that a session makes a handful of
// vkAllocateMemory calls however many buffers it has: the KV cache of every layer, the arenas and
// scratch of every compiled graph, inputs and readback buffers. A block holds one memory type
// (what a buffer's use chooses) and buffers of any purpose. A request larger than a quarter of a
// block gets memory of its own (the weights' 1 GiB blocks, a long prompt's arena); a block whose
// last buffer is freed is freed too. One pool per Device, used from any thread.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "backends/vulkan/memory.h"

namespace kiln::vk {

// What a pool holds now.
struct MemoryPoolUse {
    uint64_t allocations = 0;      // live memory objects (blocks and buffers with their own)
    uint64_t allocated_bytes = 0;  // their bytes
    uint64_t buffer_bytes[4] = {};  // live buffers' bytes by MemoryPurpose
};

class MemoryPool {
public:
    explicit MemoryPool(const Device& device);
    ~MemoryPool();  // frees every block (all buffers must be gone)
    MemoryPool(const MemoryPool&) = delete;
    MemoryPool& operator=(const MemoryPool&) = delete;

    // Memory meeting `requirements`, mapped when host-visible. Throws as allocate_memory does;
    // the fault-injection seam (fault_injection.h) is here, once per request.
    Allocation allocate(const VkMemoryRequirements& requirements, MemoryUse use, MemoryPurpose purpose);
    // Returns `allocation` (from allocate) and resets it; an empty one is ignored.
    void free(Allocation& allocation);

    MemoryPoolUse use() const;

    static constexpr uint64_t kBlockBytes = uint64_t{64} << 20;

private:
    struct Block;

    const Device& device_;
    uint64_t block_bytes_ = kBlockBytes;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Block>> blocks_;
    MemoryPoolUse use_;
};

}  // namespace kiln::vk
