#include "graph/memory_plan.h"

#include <algorithm>

#include "graph/free_ranges.h"

namespace kiln {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The arena: best fit among the free ranges, growing at the end (over a free range touching it).
class FreeList {
public:
    uint64_t allocate(uint64_t size) {
        if (const auto at = free_.take(size)) return *at;
        const uint64_t at = free_.take_ending_at(end_).value_or(end_);
        end_ = at + size;
        return at;
    }
    void release(uint64_t at, uint64_t size) { free_.release(at, size); }
    uint64_t end() const { return end_; }

private:
    FreeRanges free_;
    uint64_t end_ = 0;
};

}  // namespace

MemoryPlan plan_memory(const Graph& g, uint64_t alignment, std::span<const NodeSpan> fused) {
    const auto tensors = g.tensors();
    const auto nodes = g.nodes();
    MemoryPlan plan;
    plan.offset.assign(tensors.size(), MemoryPlan::kUnplaced);

    // Last node reading each intermediate's bytes (through any view).
    const int64_t forever = static_cast<int64_t>(nodes.size());
    std::vector<int64_t> last_use(tensors.size(), -1);
    for (size_t i = 0; i < nodes.size(); ++i) {
        for (TensorId s : nodes[i].src) {
            if (s != kNoTensor) last_use[g.storage_of(s)] = static_cast<int64_t>(i);
        }
    }
    for (const NodeSpan& run : fused) {
        const auto end = static_cast<int64_t>(run.first + run.count - 1);
        for (size_t k = run.first; k < run.first + run.count && k < nodes.size(); ++k) {
            for (TensorId s : nodes[k].src) {
                if (s != kNoTensor) last_use[g.storage_of(s)] = std::max(last_use[g.storage_of(s)], end);
            }
        }
    }
    for (TensorId out : g.outputs()) last_use[g.storage_of(out)] = forever;

    FreeList arena;
    std::vector<std::vector<TensorId>> release_after(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
        const TensorId d = nodes[i].dst;
        const Tensor& t = tensors[d];
        if (t.kind == TensorKind::Intermediate && plan.offset[d] == MemoryPlan::kUnplaced) {
            const uint64_t size = align_up(t.n_bytes(), alignment);
            plan.offset[d] = arena.allocate(size);
            plan.naive_bytes += size;
            // A result nobody reads is still written: it dies right after its node.
            const int64_t last = std::max<int64_t>(last_use[d], static_cast<int64_t>(i));
            if (last < forever) release_after[static_cast<size_t>(last)].push_back(d);
        }
        for (TensorId r : release_after[i]) arena.release(plan.offset[r], align_up(tensors[r].n_bytes(), alignment));
    }
    plan.arena_bytes = arena.end();
    return plan;
}

}  // namespace kiln
