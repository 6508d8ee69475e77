// Picks the kernel table of an instruction set, sizes scratch, plans which matmuls reuse staged
// activations and says which nodes the kernels handle. Compiled once, without ISA flags; the
// tables live in kernels/ (compiled per ISA).
#include <algorithm>
#include <optional>

#include "backends/cpu/kernels.h"
#include "backends/cpu/kernels/scratch.h"

namespace kiln {
namespace cpu {
#define KILN_DECLARE_ISA(ns)              \
    namespace ns {                        \
    const CpuKernelTable& kernel_table(); \
    bool matmul_supported(DType w);       \
    }
KILN_DECLARE_ISA(scalar)
#if defined(KILN_CPU_X86)
KILN_DECLARE_ISA(avx2)
KILN_DECLARE_ISA(avx512)
KILN_DECLARE_ISA(amx)
#endif
#undef KILN_DECLARE_ISA
}  // namespace cpu

const CpuKernelTable& cpu_kernel_table(CpuIsa isa) {
#if defined(KILN_CPU_X86)
    switch (isa) {
        case CpuIsa::Amx: return cpu::amx::kernel_table();
        case CpuIsa::Avx512: return cpu::avx512::kernel_table();
        case CpuIsa::Avx2: return cpu::avx2::kernel_table();
        case CpuIsa::Scalar: break;
    }
#else
    (void)isa;  // only the scalar kernels exist off x86
#endif
    return cpu::scalar::kernel_table();
}

void cpu_exp_floats(CpuIsa isa, const float* x, float* y, int64_t n) { cpu_kernel_table(isa).exp_floats(x, y, n); }

size_t cpu_scratch_bytes(const Graph& g, const Node& n, int nth) { return cpu::node_scratch_bytes(g, n, nth); }

CpuScratchLayout cpu_scratch_layout(const Graph& g, int nth, CpuIsa isa) {
    const CpuKernelTable& kernels = cpu_kernel_table(isa);
    size_t ops = 0, staged = 0;
    for (const Node& n : g.nodes()) {
        ops = std::max(ops, cpu::node_scratch_bytes(g, n, nth));
        if (n.op != Op::MatMul) continue;
        // A matmul stages x when its table says so: cols columns in the format's bytes.
        const Tensor& w = g.tensor(n.src[0]);
        const Tensor& x = g.tensor(n.src[1]);
        if (kernels.matmul_staged_format(w, x) != 0) {
            staged = std::max(staged, cpu::matmul_act_col_bytes(w.type, w.ne[0]) * static_cast<size_t>(x.n_rows()));
        }
    }
    return {cpu::scratch_align(ops), cpu::scratch_align(ops) + staged};
}

namespace {

// What the staged-activation region holds: x's bytes (storage, offset, dtype, shape, strides; two
// tensor ids over the same bytes count as one) in one staging format.
struct StagedX {
    int format;
    TensorId storage;
    uint64_t offset;
    DType type;
    std::array<int64_t, kMaxDims> ne;
    std::array<uint64_t, kMaxDims> nb;
    bool operator==(const StagedX&) const = default;
};

StagedX staged_x_of(const Graph& g, TensorId x, int format) {
    const Tensor& t = g.tensor(x);
    uint64_t offset = 0;
    for (TensorId v = x; g.tensor(v).kind == TensorKind::View; v = g.tensor(v).view_of) offset += g.tensor(v).view_offset;
    return {format, g.storage_of(x), offset, t.type, t.ne, t.nb};
}

}  // namespace

std::vector<bool> cpu_plan_staged_x_reuse(const Graph& g, CpuIsa isa) {
    const CpuKernelTable& kernels = cpu_kernel_table(isa);
    const auto nodes = g.nodes();
    std::vector<bool> reuse(nodes.size(), false);
    std::optional<StagedX> held;  // the region's contents at this point of a run
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        if (n.op == Op::MatMul) {
            const int format = kernels.matmul_staged_format(g.tensor(n.src[0]), g.tensor(n.src[1]));
            if (format != 0) {
                const StagedX s = staged_x_of(g, n.src[1], format);
                reuse[i] = held == s;
                held = s;
            }
        }
        // Nodes only write their dst's bytes. Intermediates live in the arena, but x stays live
        // (the planner keeps its bytes) until its last reader; other storages never overlap.
        if (held && g.storage_of(n.dst) == held->storage) held.reset();
    }
    return reuse;
}

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
        case Op::MatMul: case Op::MulMatId:
            return cpu::scalar::matmul_supported(a.type) && is_float(g.tensor(n.src[1]).type);
        case Op::TopK: return a.type == DType::F32;
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
