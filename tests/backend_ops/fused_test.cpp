// Fused Vulkan kernels against the reference composition of the nodes they replace, at the
// same thresholds, with an assertion that the fused kernel is what ran (and, where a run must
// not fuse, that it did not): rms_norm + mul by the norm weight.
#include <string>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

// The Vulkan harness fuses `expected` runs of g (checked only where Vulkan runs).
void expect_fused(const Graph& g, size_t expected, const std::string& label) {
    if (!vulkan_available()) return;
    const std::vector<KernelRun> runs = vulkan_fused_runs(g);
    ASSERT_EQ(runs.size(), expected) << label;
    for (const KernelRun& r : runs) EXPECT_EQ(r.kernel, "rms_norm+mul") << label;
}

TEST(FusedRmsNormMul, RowLengthsAndWeightTypes) {
    for (int64_t n : {1, 7, 64, 4096, 4097}) {
        for (DType wt : {DType::F32, DType::F16, DType::BF16}) {
            OpGraph og;
            const TensorId a = og.input("a", DType::F32, {n, 5, 2, 1}, 3.0f);
            const TensorId w = og.weight("norm.weight", wt, {n, 1, 1, 1}, 2.0f);
            const TensorId out = og.g.mul(og.g.rms_norm(a, 1e-5f), w);
            const std::string label = "n=" + std::to_string(n) + " w " + std::string(dtype_name(wt));
            expect_fused(og.g, 1, label);
            check_op(og, out, {}, label);
        }
    }
}

TEST(FusedRmsNormMul, HalfAndStridedInputs) {
    for (DType t : {DType::F16, DType::BF16, DType::F32}) {
        OpGraph og;
        const uint64_t es = t == DType::F32 ? 4 : 2;
        const TensorId big = og.input("big", t, {96, 6, 2, 1}, 4.0f);
        // Every other row of a wider tensor, from its 8th element.
        const TensorId a = og.g.view(big, {80, 3, 2, 1}, {es, 2 * 96 * es, 6 * 96 * es, 12 * 96 * es}, 8 * es);
        const TensorId w = og.weight("w", DType::F32, {80, 1, 1, 1});
        const TensorId out = og.g.mul(og.g.rms_norm(a, 1e-6f), w);
        expect_fused(og.g, 1, std::string(dtype_name(t)));
        check_op(og, out, {}, std::string(dtype_name(t)));
    }
}

// Two blocks' worth: norm, weight, a consumer, and again; both norms fuse.
TEST(FusedRmsNormMul, InsideAChain) {
    OpGraph og;
    const TensorId x = og.input("x", DType::F32, {256, 4, 1, 1});
    const TensorId w1 = og.weight("w1", DType::F32, {256, 1, 1, 1});
    const TensorId w2 = og.weight("w2", DType::F16, {256, 1, 1, 1});
    const TensorId h = og.g.add(x, og.g.silu(og.g.mul(og.g.rms_norm(x, 1e-5f), w1)));
    const TensorId out = og.g.mul(og.g.rms_norm(h, 1e-5f), w2);
    expect_fused(og.g, 2, "chain");
    check_op(og, out, {}, "chain");
}

// Where the normalised rows are seen by anything else, the nodes stay apart.
TEST(FusedRmsNormMul, NotWhenTheNormIsReadElsewhereOrStored) {
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId normed = og.g.rms_norm(a, 1e-5f);
        const TensorId out = og.g.add(og.g.mul(normed, og.weight("w", DType::F32, {64, 1, 1, 1})), normed);
        expect_fused(og.g, 0, "second reader");
        check_op(og, out, {}, "second reader");
    }
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId normed = og.g.rms_norm(a, 1e-5f);
        const TensorId out = og.g.mul(normed, og.weight("w", DType::F32, {64, 1, 1, 1}));
        og.g.mark_output(normed);
        expect_fused(og.g, 0, "norm is an output");
        check_ops(og, {normed, out}, {}, "norm is an output");
    }
    {
        OpGraph og;  // not a weight row: b broadcasts over rows of its own
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId out = og.g.mul(og.g.rms_norm(a, 1e-5f), og.input("b", DType::F32, {64, 3, 1, 1}));
        expect_fused(og.g, 0, "full b");
        check_op(og, out, {}, "full b");
    }
}

}  // namespace
}  // namespace kiln::testing
