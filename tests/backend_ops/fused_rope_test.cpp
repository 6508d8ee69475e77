// RoPE + the KV-cache write (set_rows of the rotated rows) as one Vulkan kernel, and a decoder
// block's attention inputs (rope of q and k, both KV-cache writes) as one, against the reference
// composition of the nodes: both modes, partial rotation, frequency factors,
// strided inputs, every cache type, and the ids set_rows treats specially (padding -1, past the
// cache, repeated: the later token wins). Where the rotated rows are read by anything else, the
// nodes stay apart.
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

struct RopeCacheCase {
    int64_t d = 64, heads = 4, cache_rows = 16;
    std::vector<int32_t> pos = {3, 4, 5, 6, 7};
    RopeMode mode = RopeMode::Normal;
    int32_t n_dims = 0;  // 0: d
    bool factors = false;
    bool strided = false;  // x a view into a wider projection (K inside QKV)
    DType cache = DType::F16;
};

std::string describe(const RopeCacheCase& c) {
    return std::string(c.mode == RopeMode::Neox ? "neox" : "normal") + " d=" + std::to_string(c.d) + " heads=" +
           std::to_string(c.heads) + " tokens=" + std::to_string(c.pos.size()) + " n_dims=" +
           std::to_string(c.n_dims) + (c.factors ? " factors" : "") + (c.strided ? " strided" : "") + " ->" +
           std::string(dtype_name(c.cache));
}

// Builds rope(x) -> set_rows(cache) as the model builders do; `also_read` adds a second reader
// of the rotated rows.
void run_rope_cache(const RopeCacheCase& c, bool also_read = false) {
    OpGraph og;
    Graph& g = og.g;
    const auto tokens = static_cast<int64_t>(c.pos.size());
    TensorId x;
    if (c.strided) {
        const int64_t row = (c.heads + 3) * c.d;
        const TensorId qkv = og.input("qkv", DType::F32, {row, tokens, 1, 1});
        const uint64_t f = sizeof(float);
        x = g.view(qkv, {c.d, c.heads, tokens, 1}, {f, f * c.d, f * row, f * row * tokens}, f * c.d);
    } else {
        x = og.input("x", DType::F32, {c.d, c.heads, tokens, 1});
    }
    const TensorId pos = og.input_i32("pos", c.pos);
    RopeParams p;
    p.mode = c.mode;
    p.n_dims = c.n_dims ? c.n_dims : static_cast<int32_t>(c.d);
    TensorId factors = kNoTensor;
    if (c.factors) {
        factors = og.input("factors", DType::F32, {p.n_dims / 2, 1, 1, 1});
        std::vector<float> f(static_cast<size_t>(p.n_dims / 2));
        for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + static_cast<float>(i % 5);
        og.set_values(factors, f);
    }
    const TensorId rotated = g.rope(x, pos, p, factors);
    const TensorId cache = g.state("cache_k", c.cache, {c.d * c.heads, c.cache_rows, 1, 1});
    const TensorId written = g.set_rows(cache, g.reshape(rotated, {c.d * c.heads, tokens, 1, 1}), pos);
    std::vector<TensorId> outs = {written};
    if (also_read) outs.push_back(g.scale(rotated, 2.0f));
    expect_vulkan_fused(g, also_read ? 0 : 1, describe(c), "rope+set_rows");
    check_ops(og, outs, {}, describe(c));
}

TEST(FusedRopeSetRows, ModesAndCacheTypes) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        for (DType cache : {DType::F16, DType::F32, DType::BF16}) {
            run_rope_cache({.mode = mode, .cache = cache});
            run_rope_cache({.d = 128, .heads = 2, .pos = {0}, .mode = mode, .cache = cache});  // decode
        }
    }
}

TEST(FusedRopeSetRows, PartialRotationFactorsAndStridedInputs) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        run_rope_cache({.d = 80, .heads = 3, .mode = mode, .n_dims = 32});
        run_rope_cache({.d = 13, .heads = 2, .mode = mode, .n_dims = 8});  // 5 values pass through
        run_rope_cache({.d = 64, .heads = 2, .mode = mode, .factors = true});
        run_rope_cache({.d = 64, .heads = 4, .mode = mode, .strided = true});
    }
}

TEST(FusedRopeSetRows, PaddingOutOfRangeAndRepeatedIds) {
    // -1 (padding) and 12 (past the cache) write nothing; 3 appears twice: the later token wins.
    run_rope_cache({.cache_rows = 12, .pos = {3, -1, 11, 12, 3, 5, -1, 0}});
    // A long chunk at scattered positions.
    std::vector<int32_t> pos(37);
    for (int i = 0; i < 37; ++i) pos[static_cast<size_t>(i)] = 100 + ((i * 7) % 37);
    run_rope_cache({.d = 128, .heads = 2, .cache_rows = 160, .pos = pos});
}

TEST(FusedRopeSetRows, NotWhenTheRotatedRowsAreReadElsewhere) {
    run_rope_cache({}, true);
}

// A decoder block's attention inputs as the builders make them: rope(q), rope(k) -> K cache,
// v -> V cache (rope_qkv, one kernel for the four nodes). q and k are views of wider
// projections; grouped-query heads; the caches' ids as above.
struct AttentionInputsCase {
    int64_t d = 64, q_heads = 8, kv_heads = 2, cache_rows = 16;
    std::vector<int32_t> pos = {3, 4, 5, 6, 7};
    RopeMode mode = RopeMode::Normal;
    int32_t n_dims = 0;  // 0: d
    DType cache = DType::F16;
};

void run_attention_inputs(const AttentionInputsCase& c) {
    OpGraph og;
    Graph& g = og.g;
    const auto tokens = static_cast<int64_t>(c.pos.size());
    const uint64_t f = sizeof(float);
    // q, k and v side by side in one projection output, as views of it.
    const int64_t row = (c.q_heads + 2 * c.kv_heads) * c.d;
    const TensorId qkv = og.input("qkv", DType::F32, {row, tokens, 1, 1});
    const TensorId q = g.view(qkv, {c.d, c.q_heads, tokens, 1}, {f, f * c.d, f * row, f * row * tokens}, 0);
    const TensorId k =
        g.view(qkv, {c.d, c.kv_heads, tokens, 1}, {f, f * c.d, f * row, f * row * tokens}, f * c.d * c.q_heads);
    const TensorId v = og.input("v", DType::F32, {c.d * c.kv_heads, tokens, 1, 1});
    const TensorId pos = og.input_i32("pos", c.pos);
    RopeParams p;
    p.mode = c.mode;
    p.n_dims = c.n_dims ? c.n_dims : static_cast<int32_t>(c.d);
    const TensorId rq = g.rope(q, pos, p);
    const TensorId rk = g.rope(k, pos, p);
    const TensorId cache_k = g.state("cache_k", c.cache, {c.d * c.kv_heads, c.cache_rows, 1, 1});
    const TensorId cache_v = g.state("cache_v", c.cache, {c.d * c.kv_heads, c.cache_rows, 1, 1});
    const TensorId wk = g.set_rows(cache_k, g.reshape(rk, {c.d * c.kv_heads, tokens, 1, 1}), pos);
    const TensorId wv = g.set_rows(cache_v, v, pos);
    const std::string label = std::string(c.mode == RopeMode::Neox ? "neox" : "normal") + " d=" + std::to_string(c.d) +
                              " heads " + std::to_string(c.q_heads) + "/" + std::to_string(c.kv_heads) + " tokens=" +
                              std::to_string(tokens) + " ->" + std::string(dtype_name(c.cache));
    expect_vulkan_fused(g, 1, label, "rope*2+set_rows*2");
    check_ops(og, {rq, wk, wv}, {}, label);
}

TEST(FusedAttentionInputs, ModesHeadsAndCacheTypes) {
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        for (DType cache : {DType::F16, DType::F32, DType::BF16}) {
            run_attention_inputs({.mode = mode, .cache = cache});
            run_attention_inputs({.d = 128, .q_heads = 4, .kv_heads = 4, .pos = {0}, .mode = mode, .cache = cache});
        }
        run_attention_inputs({.d = 80, .q_heads = 14, .kv_heads = 2, .mode = mode, .n_dims = 32});
        run_attention_inputs({.d = 13, .q_heads = 3, .kv_heads = 1, .mode = mode, .n_dims = 8});
    }
}

TEST(FusedAttentionInputs, PaddingOutOfRangeAndRepeatedIds) {
    run_attention_inputs({.cache_rows = 12, .pos = {3, -1, 11, 12, 3, 5, -1, 0}});
    std::vector<int32_t> pos(37);
    for (int i = 0; i < 37; ++i) pos[static_cast<size_t>(i)] = 100 + ((i * 7) % 37);
    run_attention_inputs({.d = 64, .q_heads = 4, .kv_heads = 2, .cache_rows = 160, .pos = pos});
}

}  // namespace
}  // namespace kiln::testing
