// This ISA's kernel table, indexed by Op.
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr CpuKernelTable make_table() {
    CpuKernelTable t{};
    const auto set = [&t](Op op, CpuKernel k) { t.op[static_cast<int>(op)] = k; };
    set(Op::GetRows, get_rows);
    set(Op::Add, add);
    set(Op::Mul, mul);
    set(Op::Scale, scale);
    set(Op::RmsNorm, rms_norm);
    set(Op::Norm, norm);
    set(Op::MatMul, matmul);
    set(Op::Rope, rope);
    set(Op::Softmax, softmax);
    set(Op::FlashAttn, flash_attn);
    set(Op::Silu, silu);
    set(Op::Gelu, gelu);
    set(Op::SwiGLU, swiglu);
    set(Op::Copy, copy);
    set(Op::SetRows, set_rows);
    set(Op::Concat, concat);
    set(Op::Argmax, argmax);
    t.matmul_staged_format = matmul_staged_format;
    t.exp_floats = exp_floats;
    return t;
}

constexpr CpuKernelTable kTable = make_table();

}  // namespace

const CpuKernelTable& kernel_table() { return kTable; }

}  // namespace kiln::cpu::KILN_ISA_NS
