#pragma once
// Free byte ranges of one address space (a graph's arena, a block of device memory), merged
// when adjacent: what graph/memory_plan.cpp and backends/vulkan/memory_pool.cpp carve from.
#include <cstdint>
#include <map>
#include <optional>

namespace kiln {

class FreeRanges {
public:
    // Adds [at, at + size), which must not overlap a free range.
    void release(uint64_t at, uint64_t size);
    // Takes `size` bytes starting at a multiple of `alignment` from the smallest free range that
    // holds them, and returns their start; nullopt when none does.
    std::optional<uint64_t> take(uint64_t size, uint64_t alignment = 1);
    // Takes the free range ending at `end`, if there is one, and returns its start.
    std::optional<uint64_t> take_ending_at(uint64_t end);

private:
    std::map<uint64_t, uint64_t> free_;  // start -> size
};

}  // namespace kiln
