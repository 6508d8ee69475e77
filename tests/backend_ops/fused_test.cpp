// Fused Vulkan kernels against the reference composition of the nodes they replace, at the
// same thresholds, with an assertion that the fused kernel is what ran (and, where a run must
// not fuse, that it did not): rms_norm + mul by the norm weight; matmul + add of a residual and
// matmul + swiglu, with every matmul kernel family forced.
#include <string>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

TEST(FusedRmsNormMul, RowLengthsAndWeightTypes) {
    for (int64_t n : {1, 7, 64, 4096, 4097}) {
        for (DType wt : {DType::F32, DType::F16, DType::BF16}) {
            OpGraph og;
            const TensorId a = og.input("a", DType::F32, {n, 5, 2, 1}, 3.0f);
            const TensorId w = og.weight("norm.weight", wt, {n, 1, 1, 1}, 2.0f);
            const TensorId out = og.g.mul(og.g.rms_norm(a, 1e-5f), w);
            const std::string label = "n=" + std::to_string(n) + " w " + std::string(dtype_name(wt));
            expect_vulkan_fused(og.g, 1, label);
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
        expect_vulkan_fused(og.g, 1, std::string(dtype_name(t)));
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
    expect_vulkan_fused(og.g, 2, "chain");
    check_op(og, out, {}, "chain");
}

// Where the normalised rows are seen by anything else, the nodes stay apart.
TEST(FusedRmsNormMul, NotWhenTheNormIsReadElsewhereOrStored) {
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId normed = og.g.rms_norm(a, 1e-5f);
        const TensorId out = og.g.add(og.g.mul(normed, og.weight("w", DType::F32, {64, 1, 1, 1})), normed);
        expect_vulkan_fused(og.g, 0, "second reader");
        check_op(og, out, {}, "second reader");
    }
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId normed = og.g.rms_norm(a, 1e-5f);
        const TensorId out = og.g.mul(normed, og.weight("w", DType::F32, {64, 1, 1, 1}));
        og.g.mark_output(normed);
        expect_vulkan_fused(og.g, 0, "norm is an output");
        check_ops(og, {normed, out}, {}, "norm is an output");
    }
    {
        OpGraph og;  // not a weight row: b broadcasts over rows of its own
        const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
        const TensorId out = og.g.mul(og.g.rms_norm(a, 1e-5f), og.input("b", DType::F32, {64, 3, 1, 1}));
        expect_vulkan_fused(og.g, 0, "full b");
        check_op(og, out, {}, "full b");
    }
}

// w x followed by the node that reads it and one more tensor of its shape: residual + w x (the
// attention output and FFN down projections with their skip connection), or swiglu with the
// product as gate (silu applies to it) or as up.
enum class Next { AddResidualFirst, AddProductFirst, SwigluGate, SwigluUp };

void run_matmul_then(Next next, DType wt, int64_t k, int64_t n, int64_t cols, const std::string& kernel) {
    OpGraph og;
    const TensorId w = og.weight("w", wt, {k, n, 1, 1});
    const TensorId x = og.input("x", DType::F32, {k, cols, 1, 1});
    const TensorId other = og.input("other", DType::F32, {n, cols, 1, 1}, 4.0f);
    const TensorId y = og.g.matmul(w, x);
    TensorId out = kNoTensor;
    switch (next) {
        case Next::AddResidualFirst: out = og.g.add(other, y); break;
        case Next::AddProductFirst: out = og.g.add(y, other); break;
        case Next::SwigluGate: out = og.g.swiglu(y, other); break;
        case Next::SwigluUp: out = og.g.swiglu(other, y); break;
    }
    const bool add = next == Next::AddResidualFirst || next == Next::AddProductFirst;
    const std::string label = kernel + " " + std::string(dtype_name(wt)) + " k=" + std::to_string(k) +
                              " n=" + std::to_string(n) + " cols=" + std::to_string(cols) + " next #" +
                              std::to_string(static_cast<int>(next));
    expect_vulkan_fused(og.g, 1, label, add ? "matmul+add" : "matmul+swiglu");
    check_op(og, out, matmul_tolerance(wt), label);
}

// The epilogue is one function every kernel family shares (matmul_params.glsl's store_d) and
// every dtype of a family reaches the same way: each family forced with a float and a K-quant
// weight, every dtype family with the kernel the device picks.
TEST(FusedMatmulEpilogue, EveryKernelFamily) {
    const Next all[] = {Next::AddResidualFirst, Next::AddProductFirst, Next::SwigluGate, Next::SwigluUp};
    for (const char* kernel : {"lanes", "vec", "vec_shared", "tiles", "idot"}) {
        force_vulkan_matmul_kernel(kernel);
        // idot: quantized weights only; Q4_0 stands for the 32-element blocks.
        const bool idot = std::string_view(kernel) == "idot";
        for (DType wt : {idot ? DType::Q4_0 : DType::F32, DType::Q4_K}) {
            const int64_t k = info(wt).block_size == 256 ? 512 : 96;
            for (Next next : all) {
                run_matmul_then(next, wt, k, 33, 1, kernel);
                run_matmul_then(next, wt, k, 65, 5, kernel);
            }
        }
        expect_only_matmul_family_ran(kernel);
    }
    force_vulkan_matmul_kernel("auto");
    for (DType wt : {DType::F16, DType::Q4_0, DType::Q8_0, DType::Q6_K}) {
        for (Next next : all) run_matmul_then(next, wt, info(wt).block_size == 256 ? 256 : 64, 17, 2, "auto");
    }
}

// A residual that broadcasts (a bias row) is not the product's shape: no fusion.
TEST(FusedMatmulEpilogue, NotForABroadcastOperand) {
    OpGraph og;
    const TensorId w = og.weight("w", DType::Q8_0, {64, 16, 1, 1});
    const TensorId x = og.input("x", DType::F32, {64, 3, 1, 1});
    const TensorId out = og.g.add(og.g.matmul(w, x), og.input("bias", DType::F32, {16, 1, 1, 1}));
    expect_vulkan_fused(og.g, 0, "bias", "matmul+add");
    check_op(og, out, matmul_tolerance(DType::Q8_0), "bias");
}

}  // namespace
}  // namespace kiln::testing
