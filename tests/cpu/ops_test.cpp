// Element-wise ops, norms, softmax, rope and data movement against the reference kernels, on
// every ISA and 1-3 threads. Shapes are deliberately awkward (odd rows, broadcasts, f16 inputs).
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::check_case;
using testing::random_floats;

size_t count(Shape s) { return static_cast<size_t>(s[0] * s[1] * s[2] * s[3]); }

TEST(CpuOps, AddAndMulBroadcast) {
    const Shape a_shape{37, 5, 3, 2};
    for (Shape b_shape : {Shape{37, 5, 3, 2}, Shape{37, 1, 1, 1}, Shape{1, 5, 1, 1}, Shape{37, 5, 1, 2}, Shape{1, 1, 1, 1}}) {
        for (DType bt : {DType::F32, DType::F16, DType::BF16}) {
            Case c;
            const TensorId a = c.input("a", DType::F32, a_shape, random_floats(count(a_shape), 1));
            const TensorId b = c.input("b", bt, b_shape, random_floats(count(b_shape), 2));
            c.outputs = {c.g.add(a, b), c.g.mul(a, b)};
            check_case(c, "add/mul b=" + std::to_string(b_shape[0]) + "x" + std::to_string(b_shape[1]) + " " +
                              std::string(dtype_name(bt)));
        }
    }
}

TEST(CpuOps, UnaryOps) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
        for (Shape s : {Shape{1, 1, 1, 1}, Shape{4097, 3, 1, 1}, Shape{33, 2, 2, 2}}) {
            Case c;
            const TensorId a = c.input("a", t, s, random_floats(count(s), 3, -8.0f, 8.0f));
            const TensorId b = c.input("b", t, s, random_floats(count(s), 4, -3.0f, 3.0f));
            c.outputs = {c.g.scale(a, 0.37f), c.g.silu(a), c.g.gelu(a), c.g.swiglu(a, b)};
            check_case(c, "unary " + std::string(dtype_name(t)) + " n=" + std::to_string(s[0]));
        }
    }
}

TEST(CpuOps, Norms) {
    for (DType t : {DType::F32, DType::F16}) {
        for (Shape s : {Shape{4096, 3, 1, 1}, Shape{7, 5, 2, 1}, Shape{1, 2, 1, 1}, Shape{100, 1, 1, 1}}) {
            Case c;
            auto x = random_floats(count(s), 5, -2.0f, 3.0f);
            const TensorId a = c.input("a", t, s, x);
            c.outputs = {c.g.rms_norm(a, 1e-5f), c.g.norm(a, 1e-6f)};
            check_case(c, "norms " + std::string(dtype_name(t)) + " n=" + std::to_string(s[0]));
        }
    }
}

TEST(CpuOps, NormsOfStridedView) {
    Case c;
    const TensorId a = c.input("a", DType::F32, {64, 6, 1, 1}, random_floats(64 * 6, 6));
    // Every other row, first 48 values: rows contiguous, row stride 2 rows.
    const TensorId v = c.g.view(a, {48, 3, 1, 1}, {4, 2 * 64 * 4, 2 * 64 * 4 * 3, 2 * 64 * 4 * 3}, 64 * 4);
    c.outputs = {c.g.rms_norm(v, 1e-5f), c.g.scale(v, 2.0f)};
    check_case(c, "strided view");
}

TEST(CpuOps, Softmax) {
    const Shape s{67, 12, 2, 1};
    for (int variant = 0; variant < 4; ++variant) {
        Case c;
        c.threshold = 1e-6;
        const TensorId a = c.input("a", DType::F32, s, random_floats(count(s), 7, -5.0f, 5.0f));
        TensorId mask = kNoTensor;
        if (variant > 0) {
            const int64_t mrows = variant == 3 ? 4 : 12;  // 4 mask rows broadcast over 12
            std::vector<float> m(static_cast<size_t>(67 * mrows));
            for (int64_t r = 0; r < mrows; ++r)
                for (int64_t i = 0; i < 67; ++i) m[r * 67 + i] = i > r + 30 ? -INFINITY : 0.1f * static_cast<float>(i % 5);
            if (variant == 2) {  // a row that is masked completely gives zeros
                for (int64_t i = 0; i < 67; ++i) m[i] = -INFINITY;
            }
            mask = c.input("mask", variant == 2 ? DType::F16 : DType::F32, {67, mrows, 1, 1}, m);
        }
        c.outputs = {c.g.softmax(a, mask, 0.125f)};
        check_case(c, "softmax variant " + std::to_string(variant));
    }
}

TEST(CpuOps, Rope) {
    struct P {
        RopeMode mode;
        int64_t d, n_dims;
        float scale;
    };
    for (P p : {P{RopeMode::Normal, 128, 128, 1.0f}, P{RopeMode::Neox, 128, 128, 1.0f}, P{RopeMode::Normal, 80, 32, 0.5f},
                P{RopeMode::Neox, 64, 16, 0.25f}, P{RopeMode::Neox, 8, 8, 1.0f}}) {
        Case c;
        const Shape s{p.d, 5, 7, 1};
        const TensorId x = c.input("x", DType::F32, s, random_floats(count(s), 8));
        const TensorId pos = c.g.input("pos", DType::I32, {7, 1, 1, 1});
        c.set(pos, std::vector<int32_t>{0, 1, 2, 17, 100, 1000, 4095});
        RopeParams rp;
        rp.mode = p.mode;
        rp.n_dims = static_cast<int32_t>(p.n_dims);
        rp.freq_base = p.mode == RopeMode::Neox ? 1000000.0f : 10000.0f;
        rp.freq_scale = p.scale;
        c.outputs = {c.g.rope(x, pos, rp)};
        check_case(c, "rope d=" + std::to_string(p.d) + " n_dims=" + std::to_string(p.n_dims));
    }
}

TEST(CpuOps, GetRowsEveryDtype) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                    DType::IQ4_NL, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K}) {
        Case c;
        const TensorId table = c.weight("table", t, {256, 11, 1, 1}, random_floats(256 * 11, 9));
        const TensorId ids = c.g.input("ids", DType::I32, {6, 1, 1, 1});
        c.set(ids, std::vector<int32_t>{3, 0, 10, 3, -1, 11});  // repeats and out-of-range ids (zeros)
        c.outputs = {c.g.get_rows(table, ids)};
        check_case(c, "get_rows " + std::string(dtype_name(t)));
    }
}

TEST(CpuOps, CopyConvertsIntoEveryDtype) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::I32}) {
        Case c;
        const TensorId a = c.input("a", DType::F32, {256, 6, 1, 1}, random_floats(256 * 6, 10, -4.0f, 4.0f));
        const TensorId d = c.g.state("d", t, {512, 3, 1, 1});  // reshaped: a destination row spans two source rows
        c.outputs = {c.g.copy(a, d)};
        check_case(c, "copy to " + std::string(dtype_name(t)));
    }
}

TEST(CpuOps, CopyIntoStridedViewOfState) {
    for (DType src_t : {DType::F32, DType::F16}) {
        Case c;
        const TensorId a = c.input("a", src_t, {24, 5, 1, 1}, random_floats(24 * 5, 11));
        const TensorId cache = c.g.state("cache", DType::F16, {32, 10, 1, 1});
        c.inputs[cache] = std::vector<uint8_t>(32 * 10 * 2, 0x11);
        // Columns 8..31 of rows 3..7 of the cache.
        const TensorId v = c.g.view(cache, {24, 5, 1, 1}, {2, 64, 640, 640}, 3 * 64 + 16);
        c.g.copy(a, v);
        c.outputs = {cache};
        check_case(c, "copy into view");
    }
}

TEST(CpuOps, SetRowsWritesTheCache) {
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
        for (DType at : {DType::F32, DType::F16}) {
            Case c;
            const TensorId cache = c.g.state("kv", t, {64, 20, 1, 1});
            c.inputs[cache] = testing::encode(t, random_floats(64 * 20, 12), 64);
            const TensorId a = c.input("a", at, {64, 7, 1, 1}, random_floats(64 * 7, 13));
            const TensorId ids = c.g.input("ids", DType::I32, {7, 1, 1, 1});
            c.set(ids, std::vector<int32_t>{5, 6, 19, 0, 6, 25, -3});  // a repeat (last wins) and two out of range
            c.outputs = {c.g.set_rows(cache, a, ids)};
            check_case(c, "set_rows " + std::string(dtype_name(t)));
        }
    }
}

TEST(CpuOps, ConcatEveryDim) {
    for (int dim = 0; dim < 4; ++dim) {
        Shape sa{9, 4, 3, 2}, sb = sa;
        sb[dim] = 5;
        Case c;
        const TensorId a = c.input("a", DType::F32, sa, random_floats(count(sa), 14));
        const TensorId b = c.input("b", DType::F16, sb, random_floats(count(sb), 15));
        c.outputs = {c.g.concat(a, b, dim)};
        check_case(c, "concat dim " + std::to_string(dim));
    }
}

TEST(CpuOps, ArgmaxFirstMaximumWins) {
    Case c;
    c.threshold = 0;
    auto x = random_floats(1000 * 7, 16);
    x[3 * 1000 + 10] = 5.0f;
    x[3 * 1000 + 500] = 5.0f;  // tie: the first wins
    x[6 * 1000 + 999] = 9.0f;
    const TensorId a = c.input("a", DType::F32, {1000, 7, 1, 1}, x);
    c.outputs = {c.g.argmax(a)};
    check_case(c, "argmax");
}

}  // namespace
}  // namespace kiln
