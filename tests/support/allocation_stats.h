#pragma once
// The counts kept by allocation_counter.h's replacement allocator. Any source file of a test
// executable may read them; exactly one includes allocation_counter.h, which does the counting
// (without it, every count stays 0).
#include <atomic>
#include <cstdlib>
#include <malloc.h>

namespace kiln::testing {
inline std::atomic<long> g_allocations{0};
inline std::atomic<long> g_live_bytes{0};
inline std::atomic<long> g_peak_bytes{0};
inline long allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
// Bytes allocated through operator new and not yet freed (malloc's usable sizes).
inline long live_bytes() { return g_live_bytes.load(std::memory_order_relaxed); }
// The most live_bytes() since the last reset_peak_bytes().
inline long peak_bytes() { return g_peak_bytes.load(std::memory_order_relaxed); }
inline void reset_peak_bytes() { g_peak_bytes.store(live_bytes(), std::memory_order_relaxed); }

inline void* counted(void* p) {
    if (!p) return p;
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    const long size = static_cast<long>(malloc_usable_size(p));
    const long live = g_live_bytes.fetch_add(size, std::memory_order_relaxed) + size;
    long peak = g_peak_bytes.load(std::memory_order_relaxed);
    while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
    return p;
}
inline void uncounted_free(void* p) {
    if (p) g_live_bytes.fetch_sub(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
    std::free(p);
}
}  // namespace kiln::testing
