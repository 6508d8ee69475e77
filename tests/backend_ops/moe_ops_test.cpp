// The mixture-of-experts ops against the reference on every backend: top_k (a router's choice of
// experts per token), get_rows over a batch of tables (each token's chosen router weights), and
// mul_mat_id (each token's columns times its chosen experts) for every weight dtype.
#include <algorithm>
#include <cmath>
#include <set>
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

TensorId ids_input(OpGraph& og, const std::string& name, std::vector<int32_t> values, int64_t per_token) {
    const auto tokens = static_cast<int64_t>(values.size()) / per_token;
    return og.g.reshape(og.input_i32(name, std::move(values)), {per_token, tokens, 1, 1});
}

// Indices are exact: any wrong one is far off in NMSE.
TEST(TopK, RowLengthsAndK) {
    for (int64_t n : {1, 8, 60, 128, 301}) {
        for (int k : {1, 2, 4, 8}) {
            if (k > n) continue;
            OpGraph og;
            const TensorId a = og.input("router", DType::F32, {n, 5, 2, 1}, 4.0f);
            check_op(og, og.g.top_k(a, k), {}, "n=" + std::to_string(n) + " k=" + std::to_string(k));
        }
    }
}

TEST(TopK, TiesNanAndInf) {
    // Row 0: ties (the lower index first); row 1: NaNs among the largest (ranked last); row 2:
    // +Inf twice and -Inf; row 3: all NaN (indices in order); row 4: all equal.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const int64_t n = 12;
    OpGraph og;
    const TensorId a = og.input("router", DType::F32, {n, 5, 1, 1});
    std::vector<float> v(static_cast<size_t>(5 * n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 11) * 0.1f;
    v[3] = v[7] = v[10] = 2.0f;
    v[n + 0] = nan;
    v[n + 5] = nan;
    v[n + 6] = 3.0f;
    v[2 * n + 4] = inf;
    v[2 * n + 9] = inf;
    v[2 * n + 1] = -inf;
    for (int64_t i = 0; i < n; ++i) v[3 * n + i] = nan;
    for (int64_t i = 0; i < n; ++i) v[4 * n + i] = 0.25f;
    og.set_values(a, v);
    for (int k : {1, 3, 12}) check_op(og, og.g.top_k(a, k), {}, "k=" + std::to_string(k));
}

// get_rows with ids [m, b]: lookup j of token b reads table slice b (a router's probabilities
// [1, experts, tokens] gathered at its chosen experts), ids repeated and out of range.
TEST(GetRowsBatched, TablesPerToken) {
    for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_K}) {
        const int64_t n = info(t).block_size == 256 ? 256 : info(t).quantized ? 64 : 7;
        OpGraph og;
        const TensorId table = og.weight("table", t, {n, 6, 3, 1});
        const TensorId ids = ids_input(og, "ids", {0, 5, 5, 2, -1, 1, 3, 3, 6, 4, 0, 2}, 4);
        check_op(og, og.g.get_rows(table, ids), {.max_nmse = 0}, std::string(dtype_name(t)));
    }
    OpGraph og;  // a softmax's output as the table, one weight per row
    const TensorId probs = og.g.softmax(og.input("logits", DType::F32, {8, 5, 1, 1}, 3.0f), kNoTensor, 1.0f);
    const TensorId ids = ids_input(og, "ids", {1, 7, 0, 3, 2, 2, 6, 5, 4, 0}, 2);
    check_op(og, og.g.get_rows(og.g.reshape(probs, {1, 8, 5, 1}), ids), {}, "router weights");
}

struct MulMatIdCase {
    int64_t k, n, experts;
    std::vector<int32_t> ids;  // per token `used` ids
    int64_t used;
    bool x_per_slot;  // x [k, used, t] (the down projection) or [k, 1, t] (gate, up)
};

void run_mul_mat_id(DType wt, const MulMatIdCase& c) {
    OpGraph og;
    const auto tokens = static_cast<int64_t>(c.ids.size()) / c.used;
    const TensorId w = og.weight("experts", wt, {c.k, c.n, c.experts, 1}, 0.5f);
    const TensorId x = og.input("x", DType::F32, {c.k, c.x_per_slot ? c.used : 1, tokens, 1});
    const TensorId ids = ids_input(og, "ids", c.ids, c.used);
    check_op(og, og.g.mul_mat_id(w, x, ids), matmul_tolerance(wt),
             std::string(dtype_name(wt)) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) + " experts=" +
                 std::to_string(c.experts) + " used=" + std::to_string(c.used) + " tokens=" + std::to_string(tokens) +
                 (c.x_per_slot ? " x per slot" : " x shared"));
}

class MulMatIdTest : public ::testing::TestWithParam<DType> {};

// Decode (one token), a prompt whose tokens share and skip experts, x shared by the slots or one
// column per slot, an id out of range (a zero column), row counts that leave partial tiles.
TEST_P(MulMatIdTest, Routing) {
    const DType t = GetParam();
    const int64_t k = info(t).block_size == 256 ? 512 : info(t).quantized ? 96 : 37;
    run_mul_mat_id(t, {k, 33, 4, {2, 0}, 2, false});
    run_mul_mat_id(t, {k, 33, 4, {2, 0}, 2, true});
    run_mul_mat_id(t, {k, 9, 6, {1, 4, 4, 1, 0, 5, 1, 3, 5, 4, 1, -1, 2, 6, 0, 4}, 2, true});
    run_mul_mat_id(t, {k, 65, 8, {7, 1, 3, 0, 7, 2, 5, 3, 1, 7, 0, 6}, 4, false});
}

// Prompts on a GPU (here forced with the tiles family, which lavapipe does not pick): the columns
// grouped by expert (moe_group.comp), then tiles over each expert's columns, an unknown expert's
// columns zero. One dtype for each way of walking a row (each is a pipeline to compile, seconds
// on lavapipe).
TEST(MulMatIdTiles, ColumnsGroupedByExpert) {
    force_vulkan_matmul_kernel("tiles");
    for (DType t : {DType::F32, DType::Q4_0, DType::Q4_K}) {
        const int64_t k = info(t).block_size == 256 ? 512 : info(t).quantized ? 96 : 37;
        run_mul_mat_id(t, {k, 9, 6, {1, 4, 4, 1, 0, 5, 1, 3, 5, 4, 1, -1, 2, 6, 0, 4}, 2, true});
        run_mul_mat_id(t, {k, 130, 8, {7, 1, 3, 0, 7, 2, 5, 3, 1, 7, 0, 6}, 4, false});
    }
    const std::set<std::string> used = vulkan_shaders_used();
    force_vulkan_matmul_kernel("auto");
    if (!vulkan_available()) return;
    EXPECT_TRUE(used.count("moe_group")) << "no prompt grouped its columns by expert";
    for (const char* shader : {"matmul_id_mm_f32", "matmul_id_mm_q4_0", "matmul_id_mm_q4_k"}) {
        EXPECT_TRUE(used.count(shader)) << shader << " did not run";
    }
}

INSTANTIATE_TEST_SUITE_P(MulMatId, MulMatIdTest,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                           DType::Q5_K, DType::Q6_K, DType::IQ4_NL),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

}  // namespace
}  // namespace kiln::testing
