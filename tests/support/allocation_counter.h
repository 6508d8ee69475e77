#pragma once
// Counts every global operator new of a test executable, to prove hot paths never touch the
// heap, and the bytes live on it with their peak, to prove what a parse or a refusal may hold
// (read them through allocation_stats.h). It replaces the global allocator (legal, and it only
// counts), so include it from exactly one source file of a test executable. The plain and
// nothrow forms are replaced together so that every pair of new and delete meets the same
// allocator (the sanitizers check this); array forms call these, aligned forms stay the
// library's own pair.
#include <cstdlib>
#include <new>

#include "tests/support/allocation_stats.h"

// GCC pairs the malloc in operator new with the free in operator delete and wrongly calls it a
// mismatch; the pair is exactly what a replacement allocator is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
    if (void* p = kiln::testing::counted(std::malloc(size ? size : 1))) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return kiln::testing::counted(std::malloc(size ? size : 1));
}
void operator delete(void* p) noexcept { kiln::testing::uncounted_free(p); }
void operator delete(void* p, std::size_t) noexcept { kiln::testing::uncounted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { kiln::testing::uncounted_free(p); }
#pragma GCC diagnostic pop
