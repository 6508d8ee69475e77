// CPU flash attention over an f16 cache gives a token the same output, bit for bit, whether the
// token is scored alone (decode), in a prompt batch, or in a piece of one (a prompt resumed from
// the prompt cache): the batch only shares key tiles, never changes the arithmetic. Without it a
// cached prompt could answer differently from the same prompt evaluated whole.
#include <cmath>
#include <cstring>

#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::random_floats;

struct Shape4 {
    int64_t d, hq, hkv, n_kv;
    int32_t window = 0;
};

// Outputs [d, hq] of the tokens at positions pos, all in one flash_attn node.
std::vector<float> attend(CpuIsa isa, const Shape4& s, const std::vector<int32_t>& pos) {
    Case c;
    const auto t = static_cast<int64_t>(pos.size());
    const size_t kv_n = static_cast<size_t>(s.d * s.hkv * s.n_kv);
    // Each token's query depends on its position only, so any batch of it holds the same values.
    std::vector<float> qv;
    for (int32_t p : pos) {
        const auto row = random_floats(static_cast<size_t>(s.d * s.hq), 100 + static_cast<uint32_t>(p), -2.0f, 2.0f);
        qv.insert(qv.end(), row.begin(), row.end());
    }
    const TensorId q = c.input("q", DType::F32, {s.d, s.hq, t, 1}, qv);
    const TensorId k = c.input("k", DType::F16, {s.d, s.hkv, s.n_kv, 1}, random_floats(kv_n, 7));
    const TensorId v = c.input("v", DType::F16, {s.d, s.hkv, s.n_kv, 1}, random_floats(kv_n, 8));
    const TensorId p = c.g.input("pos", DType::I32, {t, 1, 1, 1});
    c.set(p, pos);
    const TensorId y = c.g.flash_attn(q, k, v, p, 1.0f / std::sqrt(static_cast<float>(s.d)), true, s.window);
    return testing::run_f32(c, y, isa);
}

TEST(CpuFlashAttn, ATokenGetsTheSameOutputAloneInABatchOrInAPiece) {
    // Qwen2.5-0.5B's group of 7, TinyLlama's 8, no GQA with a head size off the vector width,
    // a sliding window, and a group past the 16-token blocks (fewer tokens per unit).
    const Shape4 shapes[] = {{64, 14, 2, 150}, {64, 32, 4, 90}, {40, 3, 3, 70}, {64, 8, 2, 200, 33}, {32, 40, 1, 60}, {8, 8, 4, 70}};
    for (CpuIsa isa : testing::available_isas()) {
        for (const Shape4& s : shapes) {
            const int32_t t = 37;  // several blocks and a partial one
            std::vector<int32_t> all(static_cast<size_t>(t));
            for (int32_t i = 0; i < t; ++i) all[static_cast<size_t>(i)] = static_cast<int32_t>(s.n_kv) - t + i;
            const std::vector<float> whole = attend(isa, s, all);
            const size_t per_token = static_cast<size_t>(s.d * s.hq);
            const std::string what = std::string(isa_name(isa)) + " d=" + std::to_string(s.d) +
                                     " hq=" + std::to_string(s.hq) + " hkv=" + std::to_string(s.hkv);
            // A piece: the last 5 tokens, as a prompt resumed after a cached prefix would run.
            const std::vector<int32_t> tail(all.end() - 5, all.end());
            const std::vector<float> piece = attend(isa, s, tail);
            EXPECT_EQ(0, std::memcmp(piece.data(), whole.data() + (t - 5) * per_token, piece.size() * sizeof(float)))
                << what << ": the last 5 tokens differ when run as a piece";
            for (int32_t i : {0, 16, 36}) {  // alone, as decode runs them
                const std::vector<float> one = attend(isa, s, {all[static_cast<size_t>(i)]});
                EXPECT_EQ(0, std::memcmp(one.data(), whole.data() + i * per_token, per_token * sizeof(float)))
                    << what << ": token " << i << " differs when run alone";
            }
        }
    }
}

}  // namespace
}  // namespace kiln
