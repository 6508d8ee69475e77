// RmsNorm and Norm against the reference: odd and long rows (8192), many rows, f16 / bf16
// inputs, strided views, NaN / Inf rows.
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

TensorId normalise(Graph& g, Op op, TensorId a, float eps) {
    return op == Op::RmsNorm ? g.rms_norm(a, eps) : g.norm(a, eps);
}

std::string label(Op op, const std::string& what) { return std::string(op_name(op)) + " " + what; }

TEST(Norm, RowLengths) {
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        for (int64_t n : {1, 7, 33, 256, 4097, 8192}) {
            OpGraph og;
            const TensorId a = og.input("a", DType::F32, {n, 3, 2, 1}, 2.0f);
            check_op(og, normalise(og.g, op, a, 1e-6f), {}, label(op, "n=" + std::to_string(n)));
        }
    }
}

TEST(Norm, ManyShortRows) {
    // More rows than a workgroup count limit would ever allow one group each on small devices.
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {64, 37, 5, 3});
        check_op(og, normalise(og.g, op, a, 1e-5f), {}, label(op, "64x555"));
    }
}

TEST(Norm, HalfAndBf16Inputs) {
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        for (DType t : {DType::F16, DType::BF16}) {
            OpGraph og;
            const TensorId a = og.input("a", t, {4097, 3, 1, 1}, 8.0f);
            check_op(og, normalise(og.g, op, a, 1e-5f), {}, label(op, std::string(dtype_name(t))));
        }
    }
}

TEST(Norm, StridedViews) {
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        for (DType t : {DType::F32, DType::F16}) {
            OpGraph og;
            const uint64_t es = t == DType::F32 ? 4 : 2;
            // Per-head norm over a [128, 8 heads, 3 tokens] slice of a wider [160, 10, 3] tensor.
            const TensorId big = og.input("big", t, {160, 10, 3, 1});
            const TensorId a = og.g.view(big, {128, 8, 3, 1}, {es, 160 * es, 1600 * es, 4800 * es}, (160 + 16) * es);
            check_op(og, normalise(og.g, op, a, 1e-6f), {}, label(op, std::string(dtype_name(t))));
        }
    }
}

TEST(Norm, ConstantRowsAndLargeEps) {
    // A constant row has zero variance: Norm gives 0 * 1/sqrt(eps); RmsNorm is dominated by eps.
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {33, 2, 1, 1});
        std::vector<float> v(66, 0.25f);
        for (int i = 33; i < 66; ++i) v[i] = 1e-3f * static_cast<float>(i - 40);
        og.set_values(a, v);
        check_op(og, normalise(og.g, op, a, 0.1f), {}, label(op, "constant"));
    }
}

TEST(Norm, NanAndInfRows) {
    const float inf = std::numeric_limits<float>::infinity();
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {33, 4, 1, 1});
        std::vector<float> v(132);
        for (int i = 0; i < 132; ++i) v[i] = 0.01f * static_cast<float>((i * 37) % 101 - 50);
        v[33 + 5] = std::numeric_limits<float>::quiet_NaN();  // row 1
        v[66 + 32] = inf;                                      // row 2
        v[99 + 0] = -inf;                                      // row 3
        og.set_values(a, v);
        check_op(og, normalise(og.g, op, a, 1e-6f), {}, label(op, "nan/inf"));
    }
}

TEST(NormLarge, FullMode) {
    if (!full_mode()) GTEST_SKIP() << "--full only";
    for (Op op : {Op::RmsNorm, Op::Norm}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {8192, 512, 1, 1});
        check_op(og, normalise(og.g, op, a, 1e-6f), {}, label(op, "8192x512"));
        OpGraph heads;  // per-head q norm over a prompt: more rows than one grid dimension holds
        const TensorId q = heads.input("q", DType::F32, {128, 32, 4096, 1});
        check_op(heads, normalise(heads.g, op, q, 1e-6f), {}, label(op, "128x32x4096"));
    }
}

}  // namespace
}  // namespace kiln::testing
