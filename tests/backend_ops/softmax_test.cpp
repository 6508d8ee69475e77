// Softmax on every backend against the reference: odd and long rows (a 152k vocabulary row),
// scale, masks in f32 and f16 broadcast over rows, -inf mask entries including a fully masked
// row (zeros), 3-D inputs, and a strided view.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln {
namespace {

using testing::check_op;
using testing::OpGraph;

struct SoftmaxCase {
    int64_t cols = 33, rows = 4, ne2 = 1;
    float scale = 1.0f;
    float range = 4.0f;              // input values in [-range, range]
    int64_t mask_rows = 0;           // 0: no mask; else a [cols, mask_rows] mask, row i1 % mask_rows
    DType mask_type = DType::F32;
    bool causal_mask = false;        // -inf above the diagonal; mask row 0 fully masked
    bool strided = false;            // a is a view into rows of cols + 5 floats
};

std::string describe(const SoftmaxCase& c) {
    return "cols=" + std::to_string(c.cols) + " rows=" + std::to_string(c.rows) + " ne2=" + std::to_string(c.ne2) +
           " scale=" + std::to_string(c.scale) + " mask_rows=" + std::to_string(c.mask_rows) + " " +
           std::string(dtype_name(c.mask_type)) + (c.causal_mask ? " causal" : "") + (c.strided ? " strided" : "");
}

void run_softmax(const SoftmaxCase& c) {
    OpGraph og;
    Graph& g = og.g;
    TensorId a;
    if (c.strided) {
        const int64_t row = c.cols + 5;
        const TensorId wide = og.input("wide", DType::F32, {row, c.rows, c.ne2, 1}, c.range);
        const uint64_t f = sizeof(float);
        a = g.view(wide, {c.cols, c.rows, c.ne2, 1}, {f, f * row, f * row * c.rows, f * row * c.rows * c.ne2}, 3 * f);
    } else {
        a = og.input("a", DType::F32, {c.cols, c.rows, c.ne2, 1}, c.range);
    }
    TensorId mask = kNoTensor;
    if (c.mask_rows > 0) {
        mask = og.input("mask", c.mask_type, {c.cols, c.mask_rows, 1, 1}, 2.0f);
        if (c.causal_mask) {
            std::vector<float> m(static_cast<size_t>(c.cols * c.mask_rows));
            for (int64_t r = 0; r < c.mask_rows; ++r) {
                for (int64_t i = 0; i < c.cols; ++i) {
                    const bool visible = r > 0 && i < r + 2;  // row 0 sees nothing
                    m[static_cast<size_t>(r * c.cols + i)] = visible ? 0.0f : -std::numeric_limits<float>::infinity();
                }
            }
            og.set_values(mask, std::move(m));
        }
    }
    check_op(og, g.softmax(a, mask, c.scale), {}, describe(c));
}

TEST(Softmax, RowLengths) {
    for (int64_t cols : {1, 7, 33, 256, 1000, 4097}) run_softmax({.cols = cols, .rows = 3});
    run_softmax({.cols = 9000, .rows = 2, .scale = 0.5f});
}

TEST(Softmax, VocabularyRow) {
    // A 152k-entry logits row, values spread like logits.
    run_softmax({.cols = 152064, .rows = 1, .range = 20.0f});
    if (!testing::full_mode()) return;
    run_softmax({.cols = 152064, .rows = 8, .range = 20.0f});
}

TEST(Softmax, ScaleAndMask) {
    run_softmax({.cols = 33, .rows = 4, .scale = 0.125f, .mask_rows = 4});
    run_softmax({.cols = 100, .rows = 8, .ne2 = 3, .scale = 0.3f, .mask_rows = 4});  // mask row i1 % 4
    run_softmax({.cols = 65, .rows = 6, .mask_rows = 1, .mask_type = DType::F16});
    run_softmax({.cols = 2000, .rows = 3, .mask_rows = 3, .mask_type = DType::F16});
}

TEST(Softmax, InfiniteMask) {
    run_softmax({.cols = 16, .rows = 8, .mask_rows = 8, .causal_mask = true});
    run_softmax({.cols = 300, .rows = 5, .ne2 = 2, .scale = 0.125f, .mask_rows = 5, .causal_mask = true});
    run_softmax({.cols = 20, .rows = 4, .mask_rows = 4, .mask_type = DType::F16, .causal_mask = true});
}

TEST(Softmax, Strided) {
    run_softmax({.cols = 33, .rows = 5, .ne2 = 2, .strided = true});
    run_softmax({.cols = 1500, .rows = 3, .mask_rows = 3, .strided = true});
    if (!testing::full_mode()) return;
    run_softmax({.cols = 4096, .rows = 2048, .scale = 0.088f, .mask_rows = 2048});
}

}  // namespace
}  // namespace kiln
