// Rope on every backend against the reference: Normal and NeoX modes, partial rotation (the
// rest passes through, including an odd number of values), frequency factors, frequency base
// and scale, positions up to 8k, 4-D inputs, and x as a strided view of a fused QKV output.
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln {
namespace {

using testing::check_op;
using testing::OpGraph;

struct RopeCase {
    int64_t d = 64, heads = 4, tokens = 5, ne3 = 1;
    RopeParams params{};
    std::vector<int32_t> pos{};  // empty: 0, 1, 2, ...
    bool factors = false;
    bool strided = false;  // x is a view of a wider [(heads + 3) * d, tokens] row, at an offset
};

std::string describe(const RopeCase& c) {
    return std::string(c.params.mode == RopeMode::Neox ? "neox" : "normal") + " d=" + std::to_string(c.d) +
           " n_dims=" + std::to_string(c.params.n_dims) + " heads=" + std::to_string(c.heads) +
           " tokens=" + std::to_string(c.tokens) + " base=" + std::to_string(c.params.freq_base) +
           " scale=" + std::to_string(c.params.freq_scale) + (c.factors ? " factors" : "") + (c.strided ? " strided" : "");
}

void run_rope(RopeCase c) {
    if (c.params.n_dims == 0) c.params.n_dims = static_cast<int32_t>(c.d);
    if (c.pos.empty()) {
        for (int64_t t = 0; t < c.tokens; ++t) c.pos.push_back(static_cast<int32_t>(t));
    }
    OpGraph og;
    Graph& g = og.g;
    TensorId x;
    if (c.strided) {
        // Like K inside a fused QKV projection: rows of (heads + 3) * d floats, heads from the 2nd.
        const int64_t row = (c.heads + 3) * c.d;
        const TensorId qkv = og.input("qkv", DType::F32, {row, c.tokens, c.ne3, 1});
        const uint64_t f = sizeof(float);
        x = g.view(qkv, {c.d, c.heads, c.tokens, c.ne3}, {f, f * c.d, f * row, f * row * c.tokens}, f * c.d);
    } else {
        x = og.input("x", DType::F32, {c.d, c.heads, c.tokens, c.ne3});
    }
    const TensorId pos = og.input_i32("pos", c.pos);
    TensorId factors = kNoTensor;
    if (c.factors) {
        factors = og.input("factors", DType::F32, {c.params.n_dims / 2, 1, 1, 1});
        std::vector<float> f(static_cast<size_t>(c.params.n_dims / 2));
        for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + static_cast<float>(i % 7) * 1.5f;  // Llama 3.1-like, >= 1
        og.set_values(factors, f);
    }
    check_op(og, g.rope(x, pos, c.params, factors), {}, describe(c));
}

RopeParams params(RopeMode mode, int32_t n_dims = 0, float base = 10000.0f, float scale = 1.0f) {
    RopeParams p;
    p.mode = mode;
    p.n_dims = n_dims;
    p.freq_base = base;
    p.freq_scale = scale;
    return p;
}

TEST(Rope, Modes) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope({.d = 64, .heads = 4, .tokens = 5, .params = params(mode)});
        run_rope({.d = 128, .heads = 3, .tokens = 7, .params = params(mode, 0, 1e6f)});
        run_rope({.d = 8, .heads = 2, .tokens = 3, .params = params(mode)});
    }
}

TEST(Rope, PartialRotation) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope({.d = 128, .heads = 2, .tokens = 4, .params = params(mode, 64)});
        run_rope({.d = 80, .heads = 3, .tokens = 2, .params = params(mode, 32)});
        run_rope({.d = 13, .heads = 2, .tokens = 3, .params = params(mode, 8)});  // 5 values pass through
    }
}

TEST(Rope, FactorsAndScaling) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope({.d = 128, .heads = 4, .tokens = 3, .params = params(mode, 0, 500000.0f), .pos = {0, 1000, 4000}, .factors = true});
        run_rope({.d = 64, .heads = 2, .tokens = 3, .params = params(mode, 0, 10000.0f, 0.25f), .pos = {5, 2000, 4000}});
        run_rope({.d = 96, .heads = 2, .tokens = 2, .params = params(mode, 64), .pos = {17, 300}, .factors = true});
    }
}

TEST(Rope, LargePositions) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope({.d = 128, .heads = 2, .tokens = 6, .params = params(mode), .pos = {0, 1, 4000, 4095, 4097, 8191}});
        run_rope({.d = 64, .heads = 2, .tokens = 3, .params = params(mode, 0, 500000.0f), .pos = {3999, 4000, 4001}});
    }
}

TEST(Rope, StridedAnd4D) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope({.d = 64, .heads = 4, .tokens = 5, .params = params(mode), .pos = {3, 1, 4, 1, 5}, .strided = true});
        run_rope({.d = 32, .heads = 3, .tokens = 4, .ne3 = 2, .params = params(mode, 16), .strided = true});
        run_rope({.d = 16, .heads = 2, .tokens = 3, .ne3 = 3, .params = params(mode)});
    }
    if (!testing::full_mode()) return;
    run_rope({.d = 128, .heads = 32, .tokens = 512, .params = params(RopeMode::Neox, 0, 1e6f), .strided = true});
}

}  // namespace
}  // namespace kiln
