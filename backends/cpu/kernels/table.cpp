// This ISA's kernel table, indexed by Op. Element-wise ops come from their family's file, so
// a new unary or binary op is added there alone.
#include "backends/cpu/kernels/kernels_isa.h"
#include "graph/op_traits.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

CpuKernelTable make_table() {
    CpuKernelTable t{};
    const auto set = [&t](Op op, CpuKernel k) { t.op[static_cast<int>(op)] = k; };
    for (Op op : all_ops()) {
        const OpFamily f = op_traits(op).family;
        if (f == OpFamily::Unary || f == OpFamily::Binary) set(op, elementwise_kernel(op));
    }
    set(Op::GetRows, get_rows);
    set(Op::RmsNorm, rms_norm);
    set(Op::Norm, norm);
    set(Op::MatMul, matmul);
    set(Op::Rope, rope);
    set(Op::Softmax, softmax);
    set(Op::FlashAttn, flash_attn);
    set(Op::Copy, copy);
    set(Op::SetRows, set_rows);
    set(Op::Concat, concat);
    set(Op::Argmax, argmax);
    set(Op::TopK, top_k);
    set(Op::MulMatId, mul_mat_id);
    t.matmul_staged_format = matmul_staged_format;
    t.exp_floats = exp_floats;
    return t;
}

}  // namespace

const CpuKernelTable& kernel_table() {
    static const CpuKernelTable table = make_table();
    return table;
}

}  // namespace kiln::cpu::KILN_ISA_NS
