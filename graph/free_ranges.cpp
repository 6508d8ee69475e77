#include "graph/free_ranges.h"

#include <iterator>

namespace kiln {

void FreeRanges::release(uint64_t at, uint64_t size) {
    auto [it, _] = free_.emplace(at, size);
    if (auto next = std::next(it); next != free_.end() && it->first + it->second == next->first) {
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

std::optional<uint64_t> FreeRanges::take(uint64_t size, uint64_t alignment) {
    const auto aligned = [&](uint64_t at) { return (at + alignment - 1) / alignment * alignment; };
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (aligned(it->first) + size > it->first + it->second) continue;
        if (best == free_.end() || it->second < best->second) best = it;
    }
    if (best == free_.end()) return std::nullopt;
    const uint64_t first = best->first, end = best->first + best->second;
    const uint64_t at = aligned(first);
    free_.erase(best);
    if (at > first) free_[first] = at - first;
    if (end > at + size) free_[at + size] = end - (at + size);
    return at;
}

std::optional<uint64_t> FreeRanges::take_ending_at(uint64_t end) {
    if (free_.empty()) return std::nullopt;
    const auto last = std::prev(free_.end());
    if (last->first + last->second != end) return std::nullopt;
    const uint64_t at = last->first;
    free_.erase(last);
    return at;
}

}  // namespace kiln
