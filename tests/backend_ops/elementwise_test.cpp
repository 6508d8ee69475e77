// The Unary and Binary families (every op in them, from graph/op_traits.h, so a new element-wise
// op is covered without touching this file) against the reference: odd row lengths, broadcasts
// over every dimension, f16 / bf16 inputs, strided views, NaN / Inf inputs.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"
#include "graph/op_traits.h"

namespace kiln::testing {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string text(const Shape& s) {
    return "[" + std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]) + "," +
           std::to_string(s[3]) + "]";
}

TensorId apply(Graph& g, Op op, TensorId a, TensorId b) {
    OpParams p;
    p.scale = -1.75f;  // Scale's factor
    return g.elementwise(op, a, b, p);
}

const std::vector<Op> kUnary = ops_of(OpFamily::Unary);
const std::vector<Op> kBinary = ops_of(OpFamily::Binary);

// Values where the activations leave their easy range: overflowing exp, NaN, +-Inf, zeros.
std::vector<float> special_values(int64_t n) {
    const float pool[] = {kNaN, kInf, -kInf, 0.0f, -0.0f, 100.0f, -100.0f, 88.0f, -88.0f, 20.0f, -20.0f,
                          5.0f, -5.0f, 1e-3f, -1e-3f, 3e4f, -3e4f, 0.5f, -0.5f};
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = pool[i % std::size(pool)];
    return v;
}

TEST(ElementwiseBinary, BroadcastOverEveryDimension) {
    // b's shape divides a's in every dimension: equal, 1, or a divisor (b wraps around).
    const Shape a_shape{12, 6, 4, 2};
    const Shape b_shapes[] = {{12, 6, 4, 2}, {12, 1, 1, 1}, {1, 6, 4, 2}, {12, 6, 1, 2}, {12, 1, 4, 1},
                              {1, 1, 1, 1},  {6, 3, 2, 1}, {4, 2, 4, 2}, {12, 6, 4, 1}, {3, 6, 1, 2}};
    for (Op op : {Op::Add, Op::Mul}) {
        for (const Shape& bs : b_shapes) {
            OpGraph og;
            const TensorId a = og.input("a", DType::F32, a_shape);
            const TensorId b = og.input("b", DType::F32, bs);
            check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)) + " b=" + text(bs));
        }
    }
}

TEST(ElementwiseBinary, HalfOperandsBroadcast) {
    // b in f16 / bf16 broadcast over a 4-D a, the way norm weights and biases are read.
    const Shape a_shape{37, 5, 3, 2};
    for (const Shape& bs : {Shape{37, 1, 1, 1}, Shape{1, 5, 1, 1}, Shape{37, 5, 1, 2}, Shape{1, 1, 1, 1}}) {
        for (DType bt : {DType::F16, DType::BF16}) {
            for (Op op : {Op::Add, Op::Mul}) {
                OpGraph og;
                const TensorId a = og.input("a", DType::F32, a_shape);
                const TensorId b = og.input("b", bt, bs);
                check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)) + " b=" + text(bs) + " " + std::string(dtype_name(bt)));
            }
        }
    }
}

TEST(ElementwiseBinary, OddRowLengths) {
    for (Op op : kBinary) {
        for (int64_t n : {1, 7, 33, 4097}) {
            OpGraph og;
            const TensorId a = og.input("a", DType::F32, {n, 5, 1, 1}, 4.0f);
            const TensorId b = og.input("b", DType::F32, {n, op == Op::SwiGLU ? 5 : 1, 1, 1});
            check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)) + " n=" + std::to_string(n));
        }
    }
}

TEST(ElementwiseBinary, HalfAndBf16Inputs) {
    for (Op op : kBinary) {
        for (DType ta : {DType::F32, DType::F16, DType::BF16}) {
            for (DType tb : {DType::F32, DType::F16, DType::BF16}) {
                OpGraph og;
                const TensorId a = og.input("a", ta, {33, 3, 2, 1}, 3.0f);
                const TensorId b = og.input("b", tb, {33, 3, op == Op::SwiGLU ? 2 : 1, 1});
                check_op(og, apply(og.g, op, a, b), {},
                         std::string(op_name(op)) + " " + std::string(dtype_name(ta)) + "," + std::string(dtype_name(tb)));
            }
        }
    }
}

TEST(ElementwiseBinary, StridedViews) {
    for (Op op : kBinary) {
        for (DType t : {DType::F32, DType::F16}) {
            OpGraph og;
            const uint64_t es = t == DType::F32 ? 4 : 2;
            // a: every other row of a [40, 10, 3] input, starting at row 1, element 3.
            const TensorId big = og.input("big", t, {40, 10, 3, 1});
            const TensorId a = og.g.view(big, {33, 4, 3, 1}, {es, 2 * 40 * es, 400 * es, 1200 * es}, (40 + 3) * es);
            // b: dims 1 and 2 swapped (rows out of order in memory), shape [33, 4, 3].
            const TensorId b_src = og.input("b", DType::F32, {33, 3, 4, 1});
            const TensorId b = og.g.permute(b_src, {0, 2, 1, 3});
            check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)) + " " + std::string(dtype_name(t)));
        }
    }
}

TEST(ElementwiseBinary, NanAndInf) {
    for (Op op : kBinary) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {19, 3, 1, 1});
        const TensorId b = og.input("b", DType::F32, {19, 3, 1, 1});
        og.set_values(a, special_values(57));
        std::vector<float> bv = special_values(57);
        std::rotate(bv.begin(), bv.begin() + 5, bv.end());
        og.set_values(b, bv);
        check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)));
    }
}

TEST(ElementwiseUnary, ShapesAndTypes) {
    for (Op op : kUnary) {
        for (int64_t n : {1, 7, 33, 4097}) {
            for (DType t : {DType::F32, DType::F16, DType::BF16}) {
                OpGraph og;
                const TensorId a = og.input("a", t, {n, 3, 2, 1}, 6.0f);
                check_op(og, apply(og.g, op, a, kNoTensor), {},
                         std::string(op_name(op)) + " n=" + std::to_string(n) + " " + std::string(dtype_name(t)));
            }
        }
    }
}

TEST(ElementwiseUnary, StridedViews) {
    for (Op op : kUnary) {
        for (DType t : {DType::F32, DType::BF16}) {
            OpGraph og;
            const uint64_t es = t == DType::F32 ? 4 : 2;
            const TensorId big = og.input("big", t, {40, 6, 4, 2}, 5.0f);
            // Rows 2..4 of every matrix of every other plane: strides in dims 1, 2 and 3.
            const TensorId a = og.g.view(big, {21, 3, 2, 2}, {es, 40 * es, 2 * 240 * es, 960 * es}, (2 * 40 + 7) * es);
            check_op(og, apply(og.g, op, a, kNoTensor), {}, std::string(op_name(op)) + " " + std::string(dtype_name(t)));
        }
    }
}

TEST(ElementwiseUnary, NanInfAndLargeValues) {
    for (Op op : kUnary) {
        for (DType t : {DType::F32, DType::F16}) {
            OpGraph og;
            const TensorId a = og.input("a", t, {19, 4, 1, 1});
            og.set_values(a, special_values(76));
            check_op(og, apply(og.g, op, a, kNoTensor), {}, std::string(op_name(op)) + " " + std::string(dtype_name(t)));
        }
    }
}

TEST(ElementwiseUnary, GeluAcrossItsRange) {
    // Dense sweep over [-12, 12]: the tanh form's cancellation for negative x must not show.
    OpGraph og;
    const TensorId a = og.input("a", DType::F32, {4801, 1, 1, 1});
    std::vector<float> v(4801);
    for (size_t i = 0; i < v.size(); ++i) v[i] = -12.0f + 0.005f * static_cast<float>(i);
    og.set_values(a, v);
    check_op(og, og.g.gelu(a));
}

TEST(ElementwiseLarge, FullMode) {
    if (!full_mode()) GTEST_SKIP() << "--full only";
    for (Op op : {Op::Add, Op::Mul, Op::SwiGLU, Op::Silu}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {14336, 512, 1, 1});
        const TensorId b = og.input("b", DType::F32, {14336, op == Op::SwiGLU ? 512 : 1, 1, 1});
        check_op(og, apply(og.g, op, a, b), {}, std::string(op_name(op)));
    }
}

}  // namespace
}  // namespace kiln::testing
