// Every op has a kernel in every ISA's table, and unsupported layouts are refused, not crashed on.
#include <gtest/gtest.h>

#include "backends/cpu/kernels.h"
#include "graph/error.h"
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

TEST(CpuKernels, EveryOpHasAKernelInEveryTable) {
    for (CpuIsa isa : kAllCpuIsas) {
        const CpuKernelTable& t = cpu_kernel_table(isa);
        for (int op = 0; op < kOpCount; ++op) {
            EXPECT_NE(t.op[op], nullptr) << isa_name(isa) << " " << op_name(static_cast<Op>(op));
        }
    }
}

TEST(CpuKernels, TablesDifferPerIsa) {
    if (!cpu_supports_isa(CpuIsa::Avx2)) GTEST_SKIP() << "no AVX2";
    EXPECT_NE(cpu_kernel_table(CpuIsa::Scalar).op[static_cast<int>(Op::MatMul)],
              cpu_kernel_table(CpuIsa::Avx2).op[static_cast<int>(Op::MatMul)]);
}

TEST(CpuKernels, SupportsEveryComputableMatmulWeight) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                    DType::IQ4_NL, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        Graph g;
        std::vector<uint8_t> w(*row_bytes(t, 256) * 4);
        const TensorId W = g.weight("w", t, {256, 4, 1, 1}, w.data());
        const TensorId x = g.input("x", DType::F32, {256, 1, 1, 1});
        g.matmul(W, x);
        EXPECT_TRUE(cpu_supports(g, g.nodes()[0])) << dtype_name(t);
    }
}

TEST(CpuKernels, RefusesStridedRowsInsteadOfCrashing) {
    Graph g;
    const TensorId a = g.input("a", DType::F32, {8, 4, 1, 1});
    const TensorId b = g.input("b", DType::F32, {8, 4, 1, 1});
    g.concat(g.transpose(a), g.transpose(b), 1);  // the builder allows strided rows here
    EXPECT_FALSE(cpu_supports(g, g.nodes()[0]));
    CpuBackend be(CpuOptions{1, CpuIsa::Scalar});
    EXPECT_THROW(be.compile(g), Error);
}

TEST(CpuKernels, ScratchIsZeroForSimpleOps) {
    Graph g;
    const TensorId a = g.input("a", DType::F32, {8, 4, 1, 1});
    g.argmax(a);
    EXPECT_EQ(cpu_scratch_bytes(g, g.nodes()[0], 4), 0u);
}

}  // namespace
}  // namespace kiln
