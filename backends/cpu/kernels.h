#pragma once
// The CPU kernel contract. A kernel runs one node on one thread: thread `ith` of `nth` does its
// share (usually a range of rows) and must not touch another thread's share. Kernels that need
// two phases (quantize activations into `scratch`, then multiply) call `barrier->wait()` between
// them; every thread of the node must call it the same number of times.
// One table of kernels exists per instruction set (scalar, AVX2, AVX-512), all compiled from
// the same sources; the backend picks one table at start-up.
#include <cstddef>
#include <cstdint>
#include <span>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/thread_pool.h"
#include "graph/graph.h"

namespace kiln {

struct CpuKernelArgs {
    const Graph* graph;
    const Node* node;
    std::span<uint8_t* const> data;  // data[t] = address of tensor t
    int ith;
    int nth;
    uint8_t* scratch;  // cpu_scratch_bytes(node, nth) bytes, shared by the node's threads
    Barrier* barrier;
};

using CpuKernel = void (*)(const CpuKernelArgs&);

struct CpuKernelTable {
    CpuKernel op[kOpCount];
};

const CpuKernelTable& cpu_kernel_table(CpuIsa isa);

// y[i] = e^x[i] with the vector exp of the kernels of `isa` (for tests of its accuracy).
void cpu_exp_floats(CpuIsa isa, const float* x, float* y, int64_t n);

// Scratch a node needs (0 for most ops).
size_t cpu_scratch_bytes(const Graph& g, const Node& n, int nth);

// Whether the CPU kernels handle this node's dtypes and layout.
bool cpu_supports(const Graph& g, const Node& n);

}  // namespace kiln
