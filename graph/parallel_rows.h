#pragma once
// Splits rows [0, n) into contiguous chunks run on `threads` std::threads, for offline work
// (quantizing or synthesising a model) that runs once, outside any backend. The first
// exception a chunk throws is rethrown on the caller's thread after all chunks finish.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

// Physical-ish default for offline tools: every hardware thread, at least one.
inline unsigned default_offline_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

template <typename Fn>  // Fn(uint64_t begin, uint64_t end)
void parallel_rows(uint64_t n, unsigned threads, Fn&& fn) {
    const uint64_t t = std::clamp<uint64_t>(threads, 1, std::max<uint64_t>(n, 1));
    if (t == 1) {
        fn(uint64_t{0}, n);
        return;
    }
    std::exception_ptr first;
    std::mutex m;
    std::vector<std::thread> pool;
    pool.reserve(t);
    for (uint64_t i = 0; i < t; ++i) {
        const uint64_t begin = n * i / t, end = n * (i + 1) / t;
        pool.emplace_back([&, begin, end] {
            try {
                fn(begin, end);
            } catch (...) {
                std::lock_guard<std::mutex> lock(m);
                if (!first) first = std::current_exception();
            }
        });
    }
    for (std::thread& th : pool) th.join();
    if (first) std::rethrow_exception(first);
}

}  // namespace kiln
