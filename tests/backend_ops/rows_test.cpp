// Copy, SetRows and Concat against the reference: every f32 / f16 / bf16 source and
// destination pair, shapes that differ between source and destination, strided views, exact
// f16 / bf16 rounding (ties, subnormals, overflow, NaN), KV-cache writes with out-of-order,
// padding (-1), out-of-range and repeated ids, concatenation along every dimension.
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

constexpr DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};

std::string name(DType t) { return std::string(dtype_name(t)); }
uint64_t bytes_of(DType t) { return t == DType::F32 ? 4 : 2; }

TEST(RowsCopy, EveryTypePair) {
    for (DType from : kFloatTypes) {
        for (DType to : kFloatTypes) {
            OpGraph og;
            const TensorId a = og.input("a", from, {33, 6, 1, 1}, 10.0f);
            const TensorId dst = og.g.state("dst", to, {33, 6, 1, 1});
            check_op(og, og.g.copy(a, dst), {}, name(from) + "->" + name(to));
        }
    }
}

TEST(RowsCopy, ShapesDiffer) {
    // The same elements in logical order, laid out in another shape: [33, 6, 2] -> [99, 4] and
    // [7, 1, 3, 5] -> [105].
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {33, 6, 2, 1});
        const TensorId dst = og.g.state("dst", DType::F16, {99, 4, 1, 1});
        check_op(og, og.g.copy(a, dst), {}, "[33,6,2]->[99,4]");
    }
    {
        OpGraph og;
        const TensorId a = og.input("a", DType::BF16, {7, 1, 3, 5});
        const TensorId dst = og.g.state("dst", DType::F32, {105, 1, 1, 1});
        check_op(og, og.g.copy(a, dst), {}, "[7,1,3,5]->[105]");
    }
}

TEST(RowsCopy, StridedSourceAndDestination) {
    for (DType to : {DType::F32, DType::F16}) {
        OpGraph og;
        // Source: dims 1 and 2 of a [21, 4, 3] input swapped; destination: a [21, 3, 4] window
        // with gaps inside a [32, 5, 4] state (e.g. a slice of a cache), at element 2 of row 1.
        const TensorId src = og.input("src", DType::F32, {21, 4, 3, 1});
        const TensorId a = og.g.permute(src, {0, 2, 1, 3});
        const TensorId state = og.g.state("cache", to, {32, 5, 4, 1});
        const uint64_t es = bytes_of(to);
        const TensorId window = og.g.view(state, {21, 3, 4, 1}, {es, 32 * es, 160 * es, 640 * es}, (32 + 2) * es);
        og.g.copy(a, window);
        check_op(og, state, {}, "->" + name(to));
    }
}

TEST(RowsCopy, ExactHalfRounding) {
    // Ties to even, near-overflow, overflow, NaN / Inf and subnormals, in groups of one
    // magnitude so that a single one-ulp difference exceeds the bound.
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> f16_subnormal;
    for (int k = 1; k < 24; ++k) f16_subnormal.push_back(std::ldexp(static_cast<float>(k), -25));  // half-unit steps
    for (float v : {0x1p-26f, 0x1.8p-25f, -std::ldexp(5.0f, -25), std::ldexp(1023.5f, -24)}) f16_subnormal.push_back(v);
    const std::pair<DType, std::vector<float>> cases[] = {
        {DType::F16, {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, -(1.0f + 0x1p-11f), 1.0f + 0x1.000002p-11f}},
        {DType::F16, {2049.0f, 2051.0f, -2049.0f, 2049.0001f}},
        {DType::F16, {65504.0f, 65519.0f, 65520.0f, -65520.0f, 1e9f, inf, -inf, nan, 65488.0f}},
        {DType::F16, f16_subnormal},
        {DType::BF16, {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -(1.0f + 0x1p-8f), 1.0f + 0x1.000002p-8f}},
        {DType::BF16, {257.0f, 259.0f, -257.0f, 257.0001f}},
        {DType::BF16, {3.3895e38f, 3.4e38f, -3.4e38f, inf, -inf, nan, 1e-40f}},
    };
    int i = 0;
    for (const auto& [to, values] : cases) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {static_cast<int64_t>(values.size()), 1, 1, 1});
        og.set_values(a, values);
        const TensorId dst = og.g.state("dst", to, {static_cast<int64_t>(values.size()), 1, 1, 1});
        check_op(og, og.g.copy(a, dst), {.max_nmse = 1e-12}, "case " + std::to_string(i++) + " ->" + name(to));
    }
}

TEST(RowsCopy, QuantizedDestinationStaysOnCpu) {
    OpGraph og;
    const TensorId a = og.input("a", DType::F32, {64, 3, 1, 1});
    const TensorId dst = og.g.state("dst", DType::Q8_0, {64, 3, 1, 1});
    check_op(og, og.g.copy(a, dst), {.max_nmse = 1e-7, .vulkan_supported = false});
}

TEST(RowsCopy, IntoEveryDtype) {
    // A [256, 6] source into a [512, 3] state: a destination row spans two source rows. Vulkan
    // writes float destinations only.
    for (DType to : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::I32}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {256, 6, 1, 1}, 4.0f);
        const TensorId dst = og.g.state("d", to, {512, 3, 1, 1});
        const bool vulkan = to == DType::F32 || to == DType::F16 || to == DType::BF16;
        // Quantizing is the reference's own quantize_row on every backend: exact.
        check_op(og, og.g.copy(a, dst), {.max_nmse = 0, .vulkan_supported = vulkan}, "->" + name(to));
    }
}

TEST(RowsSetRows, QuantizedCacheKeepsOtherRows) {
    // Rows not written keep their bytes; a repeated id (6) takes the later row; 25 and -3 write nothing.
    for (DType src : {DType::F32, DType::F16}) {
        OpGraph og;
        const TensorId cache = og.state("kv", DType::Q8_0, {64, 20, 1, 1});
        const TensorId a = og.input("a", src, {64, 7, 1, 1});
        const TensorId ids = og.input_i32("ids", {5, 6, 19, 0, 6, 25, -3});
        check_op(og, og.g.set_rows(cache, a, ids), {.max_nmse = 0, .vulkan_supported = false}, name(src) + "->q8_0");
    }
}

TEST(RowsSetRows, CacheTypesAndSources) {
    // A [33 x 5] chunk written to rows {7, 2, 9, 0, 4} of a 10-row cache.
    for (DType cache : kFloatTypes) {
        for (DType src : kFloatTypes) {
            OpGraph og;
            const TensorId dst = og.g.state("cache", cache, {33, 10, 1, 1});
            const TensorId a = og.input("a", src, {33, 5, 1, 1}, 4.0f);
            const TensorId ids = og.input_i32("ids", {7, 2, 9, 0, 4});
            check_op(og, og.g.set_rows(dst, a, ids), {}, name(src) + "->" + name(cache));
        }
    }
}

TEST(RowsSetRows, PaddingOutOfRangeAndRepeatedIds) {
    // -1 (padding) and 12 (past the cache) write nothing; row 3 appears twice: the later wins.
    for (DType cache : {DType::F32, DType::F16}) {
        OpGraph og;
        const TensorId dst = og.g.state("cache", cache, {64, 12, 1, 1});
        const TensorId a = og.input("a", DType::F32, {64, 8, 1, 1});
        const TensorId ids = og.input_i32("ids", {3, -1, 11, 12, 3, 5, -1, 0});
        check_op(og, og.g.set_rows(dst, a, ids), {}, "->" + name(cache));
    }
}

TEST(RowsSetRows, KvCacheShapes) {
    // K of 4 KV heads x 128, a prompt chunk of 37 tokens at positions 100..136 of a 160-slot
    // cache, the source being a strided view (every other row of a wider projection).
    for (DType cache : {DType::F16, DType::F32}) {
        OpGraph og;
        const int64_t row = 4 * 128;
        const TensorId dst = og.g.state("cache_k", cache, {row, 160, 1, 1});
        const TensorId wide = og.input("qkv", DType::F32, {row + 64, 2 * 37, 1, 1});
        const uint64_t every_other = 2 * (row + 64) * 4;
        const TensorId a = og.g.view(wide, {row, 37, 1, 1}, {4, every_other, every_other * 37, every_other * 37}, 64 * 4);
        std::vector<int32_t> pos(37);
        for (int i = 0; i < 37; ++i) pos[i] = 100 + ((i * 7) % 37);
        const TensorId ids = og.input_i32("pos", pos);
        check_op(og, og.g.set_rows(dst, a, ids), {}, "->" + name(cache));
    }
}

TEST(RowsConcat, EveryDimension) {
    const Shape a_shape{9, 4, 3, 2};
    for (int dim = 0; dim < 4; ++dim) {
        Shape b_shape = a_shape;
        b_shape[dim] = dim == 0 ? 7 : 1 + dim;
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, a_shape);
        const TensorId b = og.input("b", DType::F32, b_shape);
        check_op(og, og.g.concat(a, b, dim), {}, "dim " + std::to_string(dim));
    }
}

TEST(RowsConcat, MixedTypesAndViews) {
    for (int dim = 0; dim < 4; ++dim) {
        OpGraph og;
        // a: f16 [5, 3, 2, 2] as a strided view of [8, 4, 2, 2]; b: bf16, dims 1 and 2 swapped.
        const TensorId big = og.input("big", DType::F16, {8, 4, 2, 2});
        const TensorId a = og.g.view(big, {5, 3, 2, 2}, {2, 16, 64, 128}, 2 * 3);
        Shape b_src_shape{5, 3, 2, 2};
        b_src_shape[dim] = 3;
        std::swap(b_src_shape[1], b_src_shape[2]);
        const TensorId b_src = og.input("b", DType::BF16, b_src_shape);
        const TensorId b = og.g.permute(b_src, {0, 2, 1, 3});
        check_op(og, og.g.concat(a, b, dim), {}, "dim " + std::to_string(dim));
    }
}

TEST(RowsLarge, FullMode) {
    if (!full_mode()) GTEST_SKIP() << "--full only";
    OpGraph og;
    const TensorId dst = og.g.state("cache", DType::F16, {1024, 4096, 1, 1});
    const TensorId a = og.input("a", DType::F32, {1024, 512, 1, 1});
    std::vector<int32_t> pos(512);
    for (int i = 0; i < 512; ++i) pos[i] = 3000 + (i * 5) % 512;
    check_op(og, og.g.set_rows(dst, a, og.input_i32("pos", pos)), {}, "set_rows 1024x512");
    OpGraph cp;
    const TensorId src = cp.input("src", DType::F32, {4096, 1024, 1, 1});
    check_op(cp, cp.g.copy(src, cp.g.state("dst", DType::F16, {4096, 1024, 1, 1})), {}, "copy 4096x1024");
}

}  // namespace
}  // namespace kiln::testing
