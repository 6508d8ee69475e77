#pragma once
// Helpers every kernel source shares: tensor addressing, thread shares, row conversion to f32.
// Plain C++ over the primitives of simd.h, compiled once per ISA.
#include <cstdint>

#include "backends/cpu/kernels.h"
#include "backends/cpu/kernels/scratch.h"
#include "backends/cpu/kernels/simd.h"

namespace kiln::cpu::KILN_ISA_NS {

struct Range {
    int64_t begin, end;
};

// Thread ith's share of [0, n) in contiguous pieces (the first n % nth threads get one more).
inline Range share(int64_t n, int ith, int nth) {
    const int64_t base = n / nth, extra = n % nth;
    const int64_t b = ith * base + imin(ith, extra);
    return {b, b + base + (ith < extra ? 1 : 0)};
}

// Weight rows are streamed once per matvec: a software prefetch ahead of the bytes being read
// keeps enough cache-line misses in flight. On the Intel Xeon VMs the hardware prefetchers alone
// left a one-row-at-a-time matvec at half the memory bandwidth (TinyLlama Q4_0 decode on 1
// thread: 11.9 t/s without, 19.0 with 512 bytes, 21.7 with 2 KiB, 21.2 with 4 KiB; prefetchnta
// was slower than none). Prefetching past a row's end reads the next row, which is the one read
// next.
//
// Wide streams (8 bits or more per weight: Q8_0, F16, BF16, F32) and the K-quants prefetch in
// two levels: 4 KiB ahead into L2 (prefetcht1) and 1 KiB ahead into L1. At a high byte rate the
// misses a core needs in flight outgrow the L1's fill buffers, while L2 takes more; the near
// prefetch then finds the line in L2. Measured with 2 threads (TinyLlama decode, t/s, the Intel
// VM): Q8_0 23.0 -> 26.7-27.3, F16 13.9 -> 16.1-16.2, Q4_K_M 40.3 -> 40.8-41.5; the legacy 4/5-bit
// types were as fast or up to 3% slower that way, so they keep 2 KiB into L1.
constexpr int64_t kWeightPrefetchBytes = 2048;
constexpr int64_t kFarWeightPrefetchBytes = 4096, kNearWeightPrefetchBytes = 1024;
// Whether a block of `bytes` for `elems` weights is a wide stream (8+ bits per weight).
constexpr bool wide_weights(size_t bytes, int64_t elems) { return static_cast<int64_t>(bytes) >= elems; }
// Prefetches the cache lines of the `bytes` that lie the prefetch distance past `at` (called
// once per step of a weight stream, with the step's size, so every line is requested); TwoLevel
// for the wide and K-quant streams above.
template <int64_t Bytes, bool TwoLevel = false>
[[gnu::always_inline]] inline void prefetch_weights(const void* at) {
    const auto* p = static_cast<const uint8_t*>(at);
#pragma GCC unroll 8
    for (int64_t off = 0; off < Bytes; off += 64) {
        if constexpr (TwoLevel) {
            __builtin_prefetch(p + kFarWeightPrefetchBytes + off, 0, 2);
            __builtin_prefetch(p + kNearWeightPrefetchBytes + off, 0, 3);
        } else {
            __builtin_prefetch(p + kWeightPrefetchBytes + off, 0, 3);
        }
    }
}

inline const Tensor& src(const CpuKernelArgs& a, int i) { return a.graph->tensor(a.node->src[i]); }
inline const Tensor& dst(const CpuKernelArgs& a) { return a.graph->tensor(a.node->dst); }
inline uint8_t* src_data(const CpuKernelArgs& a, int i) { return a.data[static_cast<size_t>(a.node->src[i])]; }
inline uint8_t* dst_data(const CpuKernelArgs& a) { return a.data[static_cast<size_t>(a.node->dst)]; }

// Address of row (i1, i2, i3).
inline uint8_t* row_ptr(const Tensor& t, uint8_t* base, int64_t i1, int64_t i2 = 0, int64_t i3 = 0) {
    return base + static_cast<uint64_t>(i1) * t.nb[1] + static_cast<uint64_t>(i2) * t.nb[2] +
           static_cast<uint64_t>(i3) * t.nb[3];
}

// Row r of a tensor counted over dims 1..3 (r = i1 + ne1 * (i2 + ne2 * i3)).
inline uint8_t* flat_row(const Tensor& t, uint8_t* base, int64_t r) {
    const int64_t i1 = r % t.ne[1];
    const int64_t q = r / t.ne[1];
    return row_ptr(t, base, i1, q % t.ne[2], q / t.ne[2]);
}

inline void f16_to_f32_row(const uint16_t* s, float* d, int64_t n) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(d + i, fv_load(s + i));
    for (; i < n; ++i) d[i] = h2f(s[i]);
}

inline void bf16_to_f32_row(const uint16_t* s, float* d, int64_t n) {
    for (int64_t i = 0; i < n; ++i) d[i] = bf2f(s[i]);
}

inline void f32_to_f16_row(const float* s, uint16_t* d, int64_t n) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store_f16(d + i, fv_load(s + i));
    for (; i < n; ++i) d[i] = f2h(s[i]);
}

inline void f32_to_bf16_row(const float* s, uint16_t* d, int64_t n) {
    for (int64_t i = 0; i < n; ++i) d[i] = f2bf(s[i]);
}

// A row of an f32/f16/bf16 tensor as floats: the row itself when it is f32, else converted
// into `buf` (n floats).
inline const float* floats(DType t, const uint8_t* row, int64_t n, float* buf) {
    switch (t) {
        case DType::F16: f16_to_f32_row(reinterpret_cast<const uint16_t*>(row), buf, n); return buf;
        case DType::BF16: bf16_to_f32_row(reinterpret_cast<const uint16_t*>(row), buf, n); return buf;
        default: return reinterpret_cast<const float*>(row);
    }
}

// This thread's slice of the node's scratch (see scratch.h for the layout).
inline float* thread_scratch(const CpuKernelArgs& a) {
    return reinterpret_cast<float*>(a.scratch + static_cast<size_t>(a.ith) * scratch_align(node_thread_bytes(*a.graph, *a.node)));
}

}  // namespace kiln::cpu::KILN_ISA_NS
