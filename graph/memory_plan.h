#pragma once
// Packs a graph's intermediate tensors into one arena by liveness: a tensor occupies
// [offset, offset + size) from the node that produces it to the last node that reads it (or
// any view of it); after that its bytes are reused. Outputs live to the end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "graph/graph.h"

namespace kiln {

struct MemoryPlan {
    static constexpr uint64_t kUnplaced = UINT64_MAX;
    std::vector<uint64_t> offset;  // per tensor id; kUnplaced for non-intermediates
    uint64_t arena_bytes = 0;      // peak
    uint64_t naive_bytes = 0;      // sum of all intermediates (what no reuse would cost)
};

// Nodes [first, first + count) that a backend computes as one kernel: whatever any of them
// reads stays live to the run's last node, since the kernel reads it while it writes the run's
// output (which must not take those bytes).
struct NodeSpan {
    size_t first = 0;
    size_t count = 0;
};

// `alignment` is the start alignment of every tensor (a power of two).
MemoryPlan plan_memory(const Graph& g, uint64_t alignment = 64, std::span<const NodeSpan> fused = {});

}  // namespace kiln
