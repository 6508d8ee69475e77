#include "backends/cpu/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/thread_pool.h"
#include "graph/error.h"

namespace kiln {
namespace {

struct Pass {
    const uint64_t* data = nullptr;
    size_t words = 0;
    int threads = 1;
    bool wide = false;  // AVX-512 loads
    bool to_l2 = false;  // prefetch in two levels (4 KiB into L2, 1 KiB into L1), as wide weight streams do
    std::atomic<uint64_t> sink{0};
};

// Each thread's share, read a 64-byte line per step with the widest loads this CPU has (so the
// loop is bound by memory, not by load slots), prefetching as the matmuls do (kernels/common.h):
// 2 KiB ahead into L1, or 4 KiB ahead into L2 and 1 KiB into L1. The better of the two is the
// machine's figure.
template <typename Step>
uint64_t read_range(const uint64_t* data, size_t begin, size_t end, bool to_l2, Step step) {
    uint64_t sum = 0;
    size_t i = begin;
    for (; i + 8 <= end; i += 8) {
        if (to_l2) {
            __builtin_prefetch(data + i + 512, 0, 2);
            __builtin_prefetch(data + i + 128, 0, 3);
        } else {
            __builtin_prefetch(data + i + 256, 0, 3);
        }
        sum = step(sum, data + i);
    }
    for (; i < end; ++i) sum += data[i];
    return sum;
}

#if defined(__x86_64__)
[[gnu::target("avx512f")]] uint64_t read_range_avx512(const uint64_t* data, size_t begin, size_t end, bool to_l2) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = begin;
    for (; i + 8 <= end; i += 8) {
        if (to_l2) {
            __builtin_prefetch(data + i + 512, 0, 2);
            __builtin_prefetch(data + i + 128, 0, 3);
        } else {
            __builtin_prefetch(data + i + 256, 0, 3);
        }
        acc = _mm512_xor_si512(acc, _mm512_loadu_si512(data + i));
    }
    alignas(64) uint64_t lanes[8];  // (gcc 12 warns falsely inside _mm512_reduce_add_epi64)
    _mm512_store_si512(lanes, acc);
    uint64_t sum = 0;
    for (const uint64_t v : lanes) sum += v;
    for (; i < end; ++i) sum += data[i];
    return sum;
}
#endif

void read_share(void* ctx, int ith) {
    auto& p = *static_cast<Pass*>(ctx);
    const size_t begin = p.words * static_cast<size_t>(ith) / static_cast<size_t>(p.threads);
    const size_t end = p.words * static_cast<size_t>(ith + 1) / static_cast<size_t>(p.threads);
    uint64_t sum = 0;
#if defined(__x86_64__)
    if (p.wide) sum = read_range_avx512(p.data, begin, end, p.to_l2);
#endif
    if (!p.wide) {
        sum = read_range(p.data, begin, end, p.to_l2, [](uint64_t s, const uint64_t* q) {
            return s + ((q[0] ^ q[4]) + (q[1] ^ q[5]) + (q[2] ^ q[6]) + (q[3] ^ q[7]));
        });
    }
    p.sink.fetch_add(sum, std::memory_order_relaxed);  // keeps the reads
}

}  // namespace

double measure_read_bandwidth(int threads, size_t bytes, int passes) {
    threads = std::max(threads, 1);
    const size_t words = std::max<size_t>(bytes / sizeof(uint64_t), 8);
    // In memory advised for 2 MiB pages, as the weights are where the CPU runs them
    // (models/gguf/mapped_file.h): 4 KiB pages would measure TLB misses as well.
    const size_t buffer_bytes = words * sizeof(uint64_t);
    void* mem = ::mmap(nullptr, buffer_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        throw Error("measuring memory bandwidth: cannot allocate " + std::to_string(bytes >> 20) + " MiB");
    }
    ::madvise(mem, buffer_bytes, MADV_HUGEPAGE);
    const auto unmap = [buffer_bytes](uint64_t* p) { ::munmap(p, buffer_bytes); };
    std::unique_ptr<uint64_t, decltype(unmap)> buffer(static_cast<uint64_t*>(mem), unmap);
    // Written once, so every page is resident before the timed reads.
    for (size_t i = 0; i < words; ++i) buffer.get()[i] = i * 0x9E3779B97F4A7C15ULL;
    ThreadPool pool(threads);
    Pass pass;
    pass.data = buffer.get();
    pass.words = words;
    pass.threads = threads;
    pass.wide = cpu_supports_isa(CpuIsa::Avx512);
    double best = 0.0;
    for (int k = 0; k < 2 * std::max(passes, 1); ++k) {
        pass.to_l2 = k % 2 == 1;
        const auto t0 = std::chrono::steady_clock::now();
        pool.run(read_share, &pass);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > 0) best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / s / 1e9);
    }
    return best;
}

}  // namespace kiln
