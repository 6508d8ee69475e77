// Picks the kernel table of an instruction set, sizes scratch and says which nodes the kernels
// handle. Compiled once, without ISA flags; the tables live in kernels/ (compiled per ISA).
#include "backends/cpu/kernels.h"
#include "backends/cpu/kernels/scratch.h"

namespace kiln {
namespace cpu {
#define KILN_DECLARE_ISA(ns)                              \
    namespace ns {                                        \
    const CpuKernelTable& kernel_table();                 \
    bool matmul_supported(DType w);                       \
    void exp_floats(const float* x, float* y, int64_t n); \
    }
KILN_DECLARE_ISA(scalar)
#if defined(KILN_CPU_X86)
KILN_DECLARE_ISA(avx2)
KILN_DECLARE_ISA(avx512)
#endif
#undef KILN_DECLARE_ISA
}  // namespace cpu

const CpuKernelTable& cpu_kernel_table(CpuIsa isa) {
#if defined(KILN_CPU_X86)
    switch (isa) {
        case CpuIsa::Avx512: return cpu::avx512::kernel_table();
        case CpuIsa::Avx2: return cpu::avx2::kernel_table();
        case CpuIsa::Scalar: break;
    }
#else
    (void)isa;  // only the scalar kernels exist off x86
#endif
    return cpu::scalar::kernel_table();
}

void cpu_exp_floats(CpuIsa isa, const float* x, float* y, int64_t n) {
#if defined(KILN_CPU_X86)
    switch (isa) {
        case CpuIsa::Avx512: return cpu::avx512::exp_floats(x, y, n);
        case CpuIsa::Avx2: return cpu::avx2::exp_floats(x, y, n);
        case CpuIsa::Scalar: break;
    }
#else
    (void)isa;
#endif
    cpu::scalar::exp_floats(x, y, n);
}

size_t cpu_scratch_bytes(const Graph& g, const Node& n, int nth) { return cpu::node_scratch_bytes(g, n, nth); }

bool cpu_supports(const Graph& g, const Node& n) {
    const auto is_float = [](DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; };
    // Every kernel walks rows element by element (or block by block) from nb[1..3].
    for (TensorId t : n.src) {
        if (t != kNoTensor && !g.tensor(t).rows_contiguous()) return false;
    }
    const Tensor& d = g.tensor(n.dst);
    if (!d.rows_contiguous()) return false;
    const Tensor& a = g.tensor(n.src[0]);
    switch (n.op) {
        case Op::MatMul: return cpu::scalar::matmul_supported(a.type) && is_float(g.tensor(n.src[1]).type);
        case Op::GetRows: return info(a.type).computable && a.type != DType::I32;
        case Op::Copy: case Op::SetRows: return is_float(a.type) && info(d.type).computable;
        case Op::Concat: return is_float(a.type) && is_float(g.tensor(n.src[1]).type);
        case Op::Softmax: case Op::Rope: case Op::Argmax: return a.type == DType::F32;
        case Op::FlashAttn:
            return a.type == DType::F32 && is_float(g.tensor(n.src[1]).type) && is_float(g.tensor(n.src[2]).type);
        default: return is_float(a.type);
    }
}

}  // namespace kiln
