// MatMul on every backend against the reference, for every weight dtype: inner sizes of one
// block up to 4096 (float rows ending mid-unit, and of odd length in MatMulKernels), 1..129
// weight rows, 1..64 columns, batch dims, x as strided and permuted views, weights as a view
// starting mid-buffer, every Vulkan kernel (whichever the device picks), and more rows than one
// grid dimension holds. --full adds model-sized shapes (k = 14336, vocab-sized rows, 512-token
// prompts).
#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln {
namespace {

using testing::check_op;
using testing::OpGraph;

enum class XLayout {
    Packed,
    Strided,      // a view of a wider input: rows padded by 3 floats, starting one float in
    Aligned,      // a view of a wider input: rows padded to a multiple of 4 floats, starting one row in
    Permuted,     // dims 1 and 2 swapped: x[k, m, b2] read from an input laid out [k, b2, m]
};

struct MatMulCase {
    int64_t k, n, m, b2 = 1, b3 = 1;
    XLayout x = XLayout::Packed;
    bool weight_view = false;  // w is rows 1..n of a weight of n + 2 rows
    DType x_type = DType::F32;  // packed x only
};

std::string describe(DType t, const MatMulCase& c) {
    static const char* const layouts[] = {"packed", "strided", "aligned", "permuted"};
    return std::string(dtype_name(t)) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) +
           " m=" + std::to_string(c.m) + " b2=" + std::to_string(c.b2) + " b3=" + std::to_string(c.b3) + " x " +
           layouts[static_cast<int>(c.x)] + (c.weight_view ? " w-view" : "") +
           (c.x_type != DType::F32 ? " x " + std::string(dtype_name(c.x_type)) : "");
}

TensorId make_x(OpGraph& og, const MatMulCase& c) {
    Graph& g = og.g;
    const uint64_t f = sizeof(float);
    switch (c.x) {
        case XLayout::Packed: return og.input("x", c.x_type, {c.k, c.m, c.b2, c.b3});
        case XLayout::Strided:
        case XLayout::Aligned: {
            const int64_t width = c.x == XLayout::Strided ? c.k + 3 : (c.k + 3) / 4 * 4 + 4;
            const int64_t rows = c.m + 1;
            const TensorId parent = og.input("x_wide", DType::F32, {width, rows, c.b2, c.b3});
            const uint64_t offset = c.x == XLayout::Strided ? f : width * f;  // skip a float / a row
            const std::array<uint64_t, kMaxDims> nb = {f, width * f, width * rows * f, width * rows * c.b2 * f};
            return g.view(parent, {c.k, c.m, c.b2, c.b3}, nb, offset);
        }
        case XLayout::Permuted: {
            const TensorId parent = og.input("x_swapped", DType::F32, {c.k, c.b2, c.m, c.b3});
            return g.permute(parent, {0, 2, 1, 3});
        }
    }
    return kNoTensor;
}

void run_matmul(DType t, const MatMulCase& c, bool vulkan = true, bool vulkan_only = false) {
    OpGraph og;
    TensorId w;
    if (c.weight_view) {
        const TensorId all = og.weight("w_all", t, {c.k, c.n + 2, 1, 1});
        const Tensor& a = og.g.tensor(all);
        w = og.g.view(all, {c.k, c.n, 1, 1}, a.nb, a.nb[1]);
    } else {
        w = og.weight("w", t, {c.k, c.n, 1, 1});
    }
    const TensorId x = make_x(og, c);
    testing::OpTolerance tol = testing::matmul_tolerance(t);
    tol.vulkan_supported = vulkan;
    tol.vulkan_only = vulkan_only;
    check_op(og, og.g.matmul(w, x), tol, describe(t, c));
}

// Three inner sizes per dtype: one block, several, and an odd count of blocks. Float rows
// end 4 elements into a 32-element unit (odd sizes are in MatMulKernels).
std::vector<int64_t> inner_sizes(DType t) {
    if (!info(t).quantized) return {32, 36, 288};
    if (info(t).block_size == 256) return {256, 512, 768};
    return {32, 256, 288};
}

std::vector<MatMulCase> cases(DType t) {
    const std::vector<int64_t> k = inner_sizes(t);
    std::vector<MatMulCase> out = {
        // GPUs: up to 8 columns matrix-vector, then tiles; lavapipe: 1 column, then chunks of 8.
        {k[0], 1, 1},   {k[1], 7, 2},    {k[2], 33, 5},  {k[0], 129, 8},
        {k[1], 33, 9},  {k[2], 7, 17},   {k[1], 129, 64}, {k[0], 65, 64},
        {k[1], 33, 2, 3},    {k[2], 33, 5, 3},  // batches: 6 columns, 15 columns
        {k[0], 7, 1, 2, 2},  {k[0], 7, 3, 2, 2},
        {k[1], 33, 3, 2, 1, XLayout::Strided},  {k[2], 33, 20, 1, 1, XLayout::Strided},
        {k[1], 33, 3, 1, 1, XLayout::Aligned},  {k[1], 65, 20, 2, 1, XLayout::Aligned},
        {k[2], 7, 2, 3, 1, XLayout::Permuted},  {k[2], 7, 4, 3, 1, XLayout::Permuted},
        {k[1], 33, 1, 1, 1, XLayout::Packed, true},  {k[1], 33, 17, 1, 1, XLayout::Packed, true},
        {4096, 33, 1},  {4096, 65, 64},
    };
    if (testing::full_mode()) {
        const std::vector<MatMulCase> full = {
            {14336, 256, 1}, {14336, 256, 8}, {14336, 256, 64}, {4096, 4096, 1},
            {4096, 512, 128}, {256, 152064, 1}, {1024, 2048, 512},
        };
        out.insert(out.end(), full.begin(), full.end());
    }
    return out;
}

// Runs the cases in its scope with one Vulkan matmul kernel forced (the device otherwise picks
// one: lanes on lavapipe, vec and tiles on GPUs), so every kernel is checked on any device.
class ForcedKernel {
public:
    explicit ForcedKernel(const char* kernel) { testing::force_vulkan_matmul_kernel(kernel); }
    ~ForcedKernel() { testing::force_vulkan_matmul_kernel("auto"); }
    ForcedKernel(const ForcedKernel&) = delete;
    ForcedKernel& operator=(const ForcedKernel&) = delete;
};

class MatMulTest : public ::testing::TestWithParam<DType> {};

TEST_P(MatMulTest, Shapes) {
    for (const MatMulCase& c : cases(GetParam())) run_matmul(GetParam(), c);
}

INSTANTIATE_TEST_SUITE_P(MatMul, MatMulTest,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                           DType::Q5_K, DType::Q6_K, DType::IQ4_NL),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

// Every kernel family forced, for every weight dtype, on the device (the CPU does not change
// with them): partial row and column blocks, unaligned x and weights, float rows ending
// mid-unit (F32 rows of 37 are never 16-byte aligned), odd block counts. Each family must be
// the one that ran: lanes needs one fixed subgroup size (lavapipe, NVIDIA); vec uses subgroup
// arithmetic where the device has it (`_sg`), vec_shared never.
class MatMulKernels : public ::testing::TestWithParam<DType> {};

TEST_P(MatMulKernels, EveryFamilyRuns) {
    if (!testing::vulkan_available()) GTEST_SKIP() << "no Vulkan device";
    // ctest runs this suite again on lavapipe at another vector width (tests/CMakeLists.txt):
    // the width must have given the subgroup size that run is for.
    if (const char* want = std::getenv("KILN_EXPECT_SUBGROUP_SIZE")) {
        ASSERT_EQ(testing::vulkan_subgroup_size(), static_cast<uint32_t>(std::atoi(want)));
    }
    const DType t = GetParam();
    const std::vector<int64_t> k = t == DType::F32 ? std::vector<int64_t>{37, 37, 288} : inner_sizes(t);
    for (const char* family : {"lanes", "vec", "vec_shared", "tiles", "idot"}) {
        if (std::string(family) == "idot" && !info(t).quantized) continue;  // integer dots need quantized weights
        ForcedKernel forced(family);
        const auto vulkan_only = [&](const MatMulCase& c) { run_matmul(t, c, true, true); };
        // One case per family for most dtypes (each is a pipeline to compile, seconds on lavapipe):
        // an odd block count, partial blocks, a weight view and an unaligned x together; two for
        // the dtypes that stand for each way of walking a row.
        const bool both = t == DType::F32 || t == DType::Q4_0 || t == DType::Q4_K;
        if (std::string(family) == "idot") {
            // vec's layout up to 8 columns, tiles' beyond.
            vulkan_only({k[2], 33, 5, 1, 1, XLayout::Strided, true});
            vulkan_only({k[2], 7, 9, 3, 1, XLayout::Permuted, true});
            if (both) vulkan_only({k[1], 65, 17, 1, 1, XLayout::Aligned});
        } else if (std::string(family) == "tiles") {
            vulkan_only({k[2], 7, 9, 3, 1, XLayout::Permuted, true});
            if (both) vulkan_only({k[1], 65, 17, 1, 1, XLayout::Aligned});
        } else {
            vulkan_only({k[2], 33, 5, 1, 1, XLayout::Strided, true});
            if (both) vulkan_only({k[1], 7, 1, 1, 1, XLayout::Packed, true});
        }
        testing::expect_only_matmul_family_ran(family);
    }
}

INSTANTIATE_TEST_SUITE_P(Vulkan, MatMulKernels,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                           DType::Q5_K, DType::Q6_K, DType::IQ4_NL),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });


// The CPU's tiles step four 32-element blocks at a time (then pairs, then one) over up to 4 rows
// x 4 columns: block counts 1, 3, 4, 5, 7 and 18 reach every tail, and n = 9 / m = 3, 6 leave
// partial row and column tiles. K-quant tiles carry float sums across 256-element blocks.
TEST(MatMulTiles, OddBlockCountsAndPartialTiles) {
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL}) {
        for (int64_t k : {32, 96, 128, 160, 224, 576}) {
            for (int64_t m : {1, 3, 6}) run_matmul(t, {k, 9, m});
        }
    }
    for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        for (int64_t k : {256, 768}) {
            for (int64_t m : {1, 3, 6}) run_matmul(t, {k, 9, m});
        }
    }
}

TEST(MatMulTiles, FloatWeightsOddInnerSizes) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
        for (int64_t k : {1, 7, 37, 100, 1003}) {
            run_matmul(t, {k, 9, 1});
            run_matmul(t, {k, 9, 5});
        }
    }
}

// x in f16 / bf16 (the CPU widens or stages it; Vulkan reads f32 activations only).
TEST(MatMulTiles, HalfActivationsAndBatchDims) {
    for (DType t : {DType::F16, DType::Q8_0, DType::Q4_K}) {
        for (DType xt : {DType::F16, DType::BF16, DType::F32}) {
            run_matmul(t, {256, 13, 3, 2, 2, XLayout::Packed, false, xt}, xt == DType::F32);
        }
    }
}

// Two weight rows and 33 columns: threads split the columns, not the rows.
TEST(MatMulTiles, FewRowsManyColumns) {
    for (DType t : {DType::F32, DType::Q4_0, DType::Q6_K}) run_matmul(t, {256, 2, 33});
}

// More weight rows than one grid dimension takes (65535 groups of a few rows): the rows spread
// over x and y of the grid.
TEST(MatMulGrid, RowsBeyondOneGridDimension) {
    run_matmul(DType::Q4_0, {32, 300007, 1});
    run_matmul(DType::Q8_0, {32, 300007, 3});
}

}  // namespace
}  // namespace kiln
