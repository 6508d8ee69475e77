#pragma once
// Counts every global operator new of a test executable, to prove hot paths never touch the
// heap. It replaces the global allocator (legal, and it only counts), so include it from exactly
// one source file of a test executable. The plain and nothrow forms are replaced together so
// that every pair of new and delete meets the same allocator (the sanitizers check this);
// array forms call these, aligned forms stay the library's own pair.
#include <atomic>
#include <cstdlib>
#include <new>

namespace kiln::testing {
inline std::atomic<long> g_allocations{0};
inline long allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace kiln::testing

// GCC pairs the malloc in operator new with the free in operator delete and wrongly calls it a
// mismatch; the pair is exactly what a replacement allocator is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
    kiln::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    kiln::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size ? size : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
