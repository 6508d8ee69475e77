#pragma once
// The kernels of one instruction set (namespace kiln::cpu::KILN_ISA_NS), one per op, and the
// table that collects them. Implemented in the sibling .cpp files, compiled once per ISA.
#include "backends/cpu/kernels.h"

namespace kiln::cpu::KILN_ISA_NS {

void get_rows(const CpuKernelArgs& a);
void rms_norm(const CpuKernelArgs& a);
void norm(const CpuKernelArgs& a);
void matmul(const CpuKernelArgs& a);
void rope(const CpuKernelArgs& a);
void softmax(const CpuKernelArgs& a);
void flash_attn(const CpuKernelArgs& a);
// The kernel of an op of the Unary or Binary family (graph/op_traits.h), nullptr for others.
CpuKernel elementwise_kernel(Op op);
void copy(const CpuKernelArgs& a);
void set_rows(const CpuKernelArgs& a);
void concat(const CpuKernelArgs& a);
void argmax(const CpuKernelArgs& a);
void top_k(const CpuKernelArgs& a);
void mul_mat_id(const CpuKernelArgs& a);

// y[i] = e^x[i] with this ISA's fv_exp (simd.h); for tests.
void exp_floats(const float* x, float* y, int64_t n);

// Whether matmul has a row kernel for weights of this dtype.
bool matmul_supported(DType w);

// How matmul stages x for weights w: 0 read in place (f32 x, float weights), 1 widened to f32,
// 2 / 3 Q8_K plain / in the K-quant tiles' order, 4-7 Q8A blocks (+2 in quads for the tiles, +1
// with Q8_1 sums), 8 bf16 x_hi and x_lo (the amx table's float weights). Equal nonzero formats
// of the same x give the same staged bytes (cpu_plan_staged_x_reuse).
int matmul_staged_format(const Tensor& w, const Tensor& x);
// Phase 1 of matmul: x staged into a.staged_x (Q8A / Q8_K blocks, in the tiles' interleaved
// orders or plain, or widened to f32), then the barrier; nothing when a.staged_x_ready or when
// x is read in place. The Amx matmul stages through it too.
void stage_matmul_x(const CpuKernelArgs& a, bool interleaved);

const CpuKernelTable& kernel_table();

}  // namespace kiln::cpu::KILN_ISA_NS
