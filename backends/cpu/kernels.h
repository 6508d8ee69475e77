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
#include <vector>

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
    // MatMul only: where phase 1 stages x (a region of the scratch that only matmuls write, so
    // staged activations survive the nodes after them), and whether an earlier matmul of this
    // run already staged the same x in the same format there (cpu_plan_staged_x_reuse).
    uint8_t* staged_x;
    bool staged_x_ready;
};

using CpuKernel = void (*)(const CpuKernelArgs&);

struct CpuKernelTable {
    CpuKernel op[kOpCount];
    // How this ISA's matmul stages x for weights w (kernels_isa.h) and its vector exp (for tests).
    int (*matmul_staged_format)(const Tensor& w, const Tensor& x);
    void (*exp_floats)(const float* x, float* y, int64_t n);
};

const CpuKernelTable& cpu_kernel_table(CpuIsa isa);

// y[i] = e^x[i] with the vector exp of the kernels of `isa` (for tests of its accuracy).
void cpu_exp_floats(CpuIsa isa, const float* x, float* y, int64_t n);

// Ops scratch a node needs (0 for most ops and for matmuls, whose staged x is sized by
// cpu_scratch_layout).
size_t cpu_scratch_bytes(const Graph& g, const Node& n, int nth);

// A compiled graph's scratch: the ops' scratch at 0 (each node reuses it), then the matmuls'
// staged activations from `staged_x_offset`, which no other op writes.
struct CpuScratchLayout {
    size_t staged_x_offset;
    size_t bytes;
};
CpuScratchLayout cpu_scratch_layout(const Graph& g, int nth, CpuIsa isa);

// Per node, decided once per compiled graph: true for a matmul whose x an earlier matmul already
// staged in the same format (same bytes and layout of x, same weight-dependent staging: Q8A
// blocks or quads, with Q8_1 sums or not, Q8_K plain or interleaved, f32 widening) with no
// other staging and no write to x's storage in between, so it skips phase 1. The typical case:
// attention's q, k, v projections of one normed hidden state, and the FFN's gate and up.
std::vector<bool> cpu_plan_staged_x_reuse(const Graph& g, CpuIsa isa);

// Whether the CPU kernels handle this node's dtypes and layout.
bool cpu_supports(const Graph& g, const Node& n);

}  // namespace kiln
