// The device memory pool: buffers carved from shared blocks, counted by purpose; large buffers
// with memory of their own; blocks freed with their last buffer. (A session's handful of memory
// objects: tests/apps/run_counts_test.cpp.)
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/context.h"
#include "backends/vulkan/memory_pool.h"
#include "backends/vulkan/transfer.h"
#include "vulkan/vulkan_test_support.h"

namespace kiln::vk {
namespace {

size_t index(MemoryPurpose p) { return static_cast<size_t>(p); }

TEST(VulkanMemoryPool, SmallBuffersShareABlockAndLargeOnesGetTheirOwn) {
    KILN_REQUIRE_VULKAN();
    const Context context;
    const Device& device = context.device();
    const MemoryPool& pool = device.memory_pool();
    const MemoryPoolUse before = pool.use();
    {
        std::vector<Buffer> caches;
        for (int i = 0; i < 44; ++i) caches.emplace_back(device, 1 << 20, MemoryUse::device, MemoryPurpose::kv_cache);
        Buffer arena(device, 3 << 20, MemoryUse::device, MemoryPurpose::activations);
        const MemoryPoolUse shared = pool.use();
        // 44 KV-cache layers and an arena: one block.
        EXPECT_EQ(shared.allocations, before.allocations + 1);
        EXPECT_EQ(shared.buffer_bytes[index(MemoryPurpose::kv_cache)] - before.buffer_bytes[index(MemoryPurpose::kv_cache)],
                  44u << 20);
        EXPECT_EQ(shared.buffer_bytes[index(MemoryPurpose::activations)] -
                      before.buffer_bytes[index(MemoryPurpose::activations)],
                  3u << 20);
        Buffer large(device, MemoryPool::kBlockBytes, MemoryUse::device, MemoryPurpose::weights);
        EXPECT_EQ(pool.use().allocations, shared.allocations + 1);
        EXPECT_EQ(pool.use().allocated_bytes, shared.allocated_bytes + MemoryPool::kBlockBytes);
    }
    // Every buffer gone: so are the block and the large buffer's memory.
    const MemoryPoolUse after = pool.use();
    EXPECT_EQ(after.allocations, before.allocations);
    EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
    for (size_t p = 0; p < 4; ++p) EXPECT_EQ(after.buffer_bytes[p], before.buffer_bytes[p]);
}

// Neighbours in a block hold their own bytes: each reads back what was written to it.
TEST(VulkanMemoryPool, NeighboursKeepTheirBytes) {
    KILN_REQUIRE_VULKAN();
    const Context context;
    const Device& device = context.device();
    std::vector<Buffer> buffers;
    for (int i = 0; i < 8; ++i) buffers.emplace_back(device, 1000 + 24 * i, MemoryUse::device, MemoryPurpose::activations);
    for (size_t i = 0; i < buffers.size(); ++i) {
        std::vector<std::byte> bytes(buffers[i].size(), std::byte(i + 1));
        upload(device, buffers[i], bytes, 0);
    }
    // Freeing one in the middle and taking its place again leaves the others alone.
    buffers[3] = Buffer(device, 900, MemoryUse::device, MemoryPurpose::activations);
    upload(device, buffers[3], std::vector<std::byte>(900, std::byte(99)), 0);
    for (size_t i = 0; i < buffers.size(); ++i) {
        std::vector<std::byte> out(buffers[i].size());
        download(device, buffers[i], out, 0);
        const std::byte want = i == 3 ? std::byte(99) : std::byte(i + 1);
        for (std::byte b : out) ASSERT_EQ(b, want) << "buffer " << i;
    }
}

}  // namespace
}  // namespace kiln::vk
