// RoPE frequency factors (Llama 3.1's rope_freqs) and sliding-window attention against the
// reference, on every ISA and thread count.
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::check_case;
using testing::random_floats;

TEST(CpuScaling, RopeWithFrequencyFactors) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        Case c;
        const TensorId x = c.input("x", DType::F32, {64, 4, 6, 1}, random_floats(64 * 4 * 6, 40));
        const TensorId pos = c.g.input("pos", DType::I32, {6, 1, 1, 1});
        c.set(pos, std::vector<int32_t>{0, 1, 7, 100, 2047, 8191});
        std::vector<float> f(16);
        for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + static_cast<float>(i % 5) * 3.5f;  // 1 .. 15
        const TensorId factors = c.input("factors", DType::F32, {16, 1, 1, 1}, f);
        RopeParams p;
        p.mode = mode;
        p.n_dims = 32;  // partial rotation: half the head
        p.freq_base = 500000.0f;
        c.outputs = {c.g.rope(x, pos, p, factors)};
        check_case(c, mode == RopeMode::Normal ? "rope factors normal" : "rope factors neox", {1, 2, 3});
    }
}

TEST(CpuScaling, SlidingWindowAttention) {
    for (DType kv : {DType::F16, DType::F32}) {
        for (int32_t window : {1, 5, 64}) {
            Case c;
            c.threshold = 5e-4;
            const TensorId q = c.input("q", DType::F32, {32, 4, 3, 1}, random_floats(32 * 4 * 3, 41));
            const TensorId k = c.input("k", kv, {32, 2, 90, 1}, random_floats(32 * 2 * 90, 42));
            const TensorId v = c.input("v", kv, {32, 2, 90, 1}, random_floats(32 * 2 * 90, 43));
            const TensorId pos = c.g.input("pos", DType::I32, {3, 1, 1, 1});
            c.set(pos, std::vector<int32_t>{0, 40, 89});
            c.outputs = {c.g.flash_attn(q, k, v, pos, 0.2f, true, window)};
            check_case(c, "window " + std::to_string(window), {1, 2});
        }
    }
}

}  // namespace
}  // namespace kiln
