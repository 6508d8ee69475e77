#include "graph/memory_plan.h"

#include <algorithm>
#include <map>

namespace kiln {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Free ranges of the arena, merged when adjacent; best fit, growing the arena at the end.
class FreeList {
public:
    uint64_t allocate(uint64_t size) {
        auto best = free_.end();
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second >= size && (best == free_.end() || it->second < best->second)) best = it;
        }
        if (best != free_.end()) {
            const uint64_t at = best->first;
            const uint64_t rest = best->second - size;
            free_.erase(best);
            if (rest) free_[at + size] = rest;
            return at;
        }
        // Extend: reuse a free range touching the end of the arena.
        uint64_t at = end_;
        if (!free_.empty()) {
            auto last = std::prev(free_.end());
            if (last->first + last->second == end_) {
                at = last->first;
                free_.erase(last);
            }
        }
        end_ = at + size;
        return at;
    }

    void release(uint64_t at, uint64_t size) {
        auto [it, _] = free_.emplace(at, size);
        auto next = std::next(it);
        if (next != free_.end() && it->first + it->second == next->first) {
            it->second += next->second;
            free_.erase(next);
        }
        if (it != free_.begin()) {
            auto prev = std::prev(it);
            if (prev->first + prev->second == it->first) {
                prev->second += it->second;
                free_.erase(it);
            }
        }
    }

    uint64_t end() const { return end_; }

private:
    std::map<uint64_t, uint64_t> free_;  // offset -> size
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
