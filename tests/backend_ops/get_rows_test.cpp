// GetRows on every backend against the reference, for every table dtype: one block to several
// per row, ids repeated, out of order and out of range (zero rows), tables as views starting
// mid-buffer (weights) or with padded rows (f32/f16/bf16 inputs), and a vocabulary-sized table.
// Dequantization is exact, so every backend must match the reference to rounding of nothing.
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln {
namespace {

using testing::check_op;
using testing::OpGraph;

// Dequantizing and widening are exact on every backend (bit for bit with ggml's dequantizers).
constexpr testing::OpTolerance kExact{.max_nmse = 0};

constexpr int64_t kRows = 37;
const std::vector<int32_t> kShuffled = {5, 0, 36, 5, 17, 1, 36, 2, 5};

std::string describe(DType t, int64_t n, size_t ids, const char* what) {
    return std::string(dtype_name(t)) + " n=" + std::to_string(n) + " ids=" + std::to_string(ids) + " " + what;
}

void run_weight_table(DType t, int64_t n, std::vector<int32_t> ids, bool view) {
    OpGraph og;
    TensorId table;
    if (view) {  // rows 2..kRows+1 of a larger weight: the table starts mid-buffer
        const TensorId all = og.weight("table_all", t, {n, kRows + 3, 1, 1});
        const Tensor& a = og.g.tensor(all);
        table = og.g.view(all, {n, kRows, 1, 1}, a.nb, 2 * a.nb[1]);
    } else {
        table = og.weight("table", t, {n, kRows, 1, 1});
    }
    const size_t count = ids.size();
    const TensorId id = og.input_i32("ids", std::move(ids));
    check_op(og, og.g.get_rows(table, id), kExact, describe(t, n, count, view ? "weight view" : "weight"));
}

std::vector<int64_t> row_sizes(DType t) {
    if (!info(t).quantized) return {1, 7, 64, 4099};
    if (info(t).block_size == 256) return {256, 512, 4096};
    return {32, 96, 4096};
}

class GetRowsTest : public ::testing::TestWithParam<DType> {};

TEST_P(GetRowsTest, Ids) {
    const DType t = GetParam();
    for (int64_t n : row_sizes(t)) {
        run_weight_table(t, n, {3}, false);
        run_weight_table(t, n, kShuffled, false);
        run_weight_table(t, n, kShuffled, true);
    }
    // Ids outside the table give zero rows on every backend.
    run_weight_table(t, row_sizes(t)[1], {-1, 4, static_cast<int32_t>(kRows), 0, 1 << 30}, false);
    // Many ids: more work than one step of the grid.
    std::vector<int32_t> many(300);
    for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int32_t>((i * 7919) % kRows);
    run_weight_table(t, row_sizes(t)[1], many, false);
}

INSTANTIATE_TEST_SUITE_P(GetRows, GetRowsTest,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                           DType::Q5_K, DType::Q6_K, DType::IQ4_NL),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

// A float table that is an input with padded rows (a view), as a cache would be.
TEST(GetRowsInputs, PaddedFloatRows) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
        OpGraph og;
        const int64_t n = 45, width = 48;
        const TensorId all = og.input("table_all", t, {width, kRows, 1, 1});
        const Tensor& a = og.g.tensor(all);
        const TensorId table = og.g.view(all, {n, kRows, 1, 1}, a.nb, a.nb[0]);
        const TensorId id = og.input_i32("ids", kShuffled);
        check_op(og, og.g.get_rows(table, id), kExact, describe(t, n, kShuffled.size(), "padded input"));
    }
}

// Vocabulary-sized table (152064 rows, Qwen's), ids at both ends.
TEST(GetRowsInputs, VocabularyTable) {
    OpGraph og;
    const TensorId table = og.weight("embd", DType::Q4_0, {32, 152064, 1, 1});
    const TensorId id = og.input_i32("ids", {152063, 0, 76000, 152063});
    check_op(og, og.g.get_rows(table, id), kExact, "q4_0 vocabulary");
}

}  // namespace
}  // namespace kiln
