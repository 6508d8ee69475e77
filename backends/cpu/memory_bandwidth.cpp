#include "backends/cpu/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "backends/cpu/thread_pool.h"
#include "graph/error.h"

namespace kiln {
namespace {

struct Pass {
    const uint64_t* data = nullptr;
    size_t words = 0;
    int threads = 1;
    std::atomic<uint64_t> sink{0};
};

void read_share(void* ctx, int ith) {
    auto& p = *static_cast<Pass*>(ctx);
    const size_t begin = p.words * static_cast<size_t>(ith) / static_cast<size_t>(p.threads);
    const size_t end = p.words * static_cast<size_t>(ith + 1) / static_cast<size_t>(p.threads);
    uint64_t a = 0, b = 0, c = 0, d = 0;  // four chains, so the adds never wait on each other
    size_t i = begin;
    for (; i + 8 <= end; i += 8) {  // one 64-byte line per step
        __builtin_prefetch(p.data + i + 256, 0, 3);  // 2 KiB ahead, as the matmuls prefetch
        a += p.data[i] ^ p.data[i + 4];
        b += p.data[i + 1] ^ p.data[i + 5];
        c += p.data[i + 2] ^ p.data[i + 6];
        d += p.data[i + 3] ^ p.data[i + 7];
    }
    for (; i < end; ++i) a += p.data[i];
    p.sink.fetch_add(a + b + c + d, std::memory_order_relaxed);  // keeps the reads
}

}  // namespace

double measure_read_bandwidth(int threads, size_t bytes, int passes) {
    threads = std::max(threads, 1);
    const size_t words = std::max<size_t>(bytes / sizeof(uint64_t), 8);
    std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
    if (!buffer) throw Error("measuring memory bandwidth: cannot allocate " + std::to_string(bytes >> 20) + " MiB");
    // Written once, so every page is resident before the timed reads.
    for (size_t i = 0; i < words; ++i) buffer[i] = i * 0x9E3779B97F4A7C15ULL;
    ThreadPool pool(threads);
    Pass pass;
    pass.data = buffer.get();
    pass.words = words;
    pass.threads = threads;
    double best = 0.0;
    for (int k = 0; k < std::max(passes, 1); ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run(read_share, &pass);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > 0) best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / s / 1e9);
    }
    return best;
}

}  // namespace kiln
