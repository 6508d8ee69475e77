// Argmax against the reference: odd rows, a 152064-entry vocabulary row, ties (the first
// maximum wins), NaN / Inf, strided rows.
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

// Any wrong index is far off in NMSE: ask for exact equality.

TEST(Argmax, RowLengths) {
    for (int64_t n : {1, 7, 33, 4097}) {
        OpGraph og;
        const TensorId a = og.input("a", DType::F32, {n, 5, 2, 1});
        check_op(og, og.g.argmax(a), {}, "n=" + std::to_string(n));
    }
}

TEST(Argmax, VocabularyRow) {
    // Qwen2's 152064 logits; the maximum planted near the end, in the middle and at 0.
    for (int64_t at : {152063, 76543, 0}) {
        OpGraph og;
        const TensorId a = og.input("logits", DType::F32, {152064, 1, 1, 1}, 20.0f);
        std::vector<float> v(152064);
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 100003) * 1e-4f - 5.0f;
        v[static_cast<size_t>(at)] = 30.0f;
        og.set_values(a, v);
        check_op(og, og.g.argmax(a), {}, "at " + std::to_string(at));
    }
    OpGraph og;  // two random rows
    check_op(og, og.g.argmax(og.input("logits", DType::F32, {152064, 2, 1, 1}, 20.0f)), {}, "random");
}

TEST(Argmax, TiesGoToTheFirst) {
    // Row 0: the maximum 3 at 5, 20, 700; row 1: all equal; row 2: +0 and -0 as the maximum;
    // row 3: the maximum at the last index and at a position another invocation visits first.
    const int64_t n = 1031;
    OpGraph og;
    const TensorId a = og.input("a", DType::F32, {n, 4, 1, 1});
    std::vector<float> v(static_cast<size_t>(4 * n), -1.0f);
    for (int64_t i : {700, 20, 5}) v[i] = 3.0f;
    for (int64_t i = 0; i < n; ++i) v[n + i] = 0.5f;
    v[2 * n + 9] = -0.0f;
    v[2 * n + 4] = 0.0f;
    v[2 * n + 600] = -0.0f;
    v[3 * n + 1030] = 2.0f;
    v[3 * n + 1] = 2.0f;
    og.set_values(a, v);
    check_op(og, og.g.argmax(a));
}

TEST(Argmax, NanAndInf) {
    // Row 0 starts with NaN (the reference then answers 0); row 1 has NaNs around a maximum;
    // row 2: +Inf twice; row 3: all -Inf; row 4: all NaN; row 5: -Inf then finite values.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const int64_t n = 300;
    OpGraph og;
    const TensorId a = og.input("a", DType::F32, {n, 6, 1, 1});
    std::vector<float> v(static_cast<size_t>(6 * n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 101) * 0.01f;
    v[0] = nan;
    v[n + 40] = nan;
    v[n + 41] = 5.0f;
    v[n + 299] = nan;
    v[2 * n + 77] = inf;
    v[2 * n + 201] = inf;
    for (int64_t i = 0; i < n; ++i) v[3 * n + i] = -inf;
    for (int64_t i = 0; i < n; ++i) v[4 * n + i] = nan;
    v[5 * n] = -inf;
    og.set_values(a, v);
    check_op(og, og.g.argmax(a));
}

TEST(Argmax, StridedRows) {
    // Every third row of a [64, 9, 2] input, from element 5 on.
    OpGraph og;
    const TensorId big = og.input("big", DType::F32, {64, 9, 2, 1});
    const TensorId a = og.g.view(big, {50, 3, 2, 1}, {4, 3 * 64 * 4, 9 * 64 * 4, 18 * 64 * 4}, 5 * 4);
    check_op(og, og.g.argmax(a));
}

TEST(ArgmaxLarge, FullMode) {
    if (!full_mode()) GTEST_SKIP() << "--full only";
    OpGraph og;
    check_op(og, og.g.argmax(og.input("logits", DType::F32, {152064, 64, 1, 1}, 20.0f)));
}

}  // namespace
}  // namespace kiln::testing
