// FlashAttn on every backend against the reference: head sizes 8..256, GQA ratios 1/2/4/8, KV
// lengths 1..4096, decode and prompt chunks, positions with padding (-1) and out of order,
// causal, non-causal and sliding-window, K/V in f32/f16/bf16, as packed tensors or as views of
// a KV cache laid out like models/arch/blocks.cpp. Cache rows a query must not read (past the
// largest position, before the earliest window) hold NaN, so a kernel that reads them fails.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend_ops/op_check.h"
#include "graph/op_traits.h"

namespace kiln {
namespace {

using testing::check_op;
using testing::OpGraph;

struct AttnCase {
    int64_t d = 64, dv = 64, hq = 4, hkv = 4;
    int64_t n_kv = 64;
    std::vector<int32_t> pos{};
    DType kv = DType::F16;
    bool causal = true;
    int32_t window = 0;
    bool cache_view = true;  // K/V as views of a [d * hkv, ctx] cache; else packed [d, hkv, kv]
    bool vulkan = true;      // false: outside the Vulkan kernel (supports() must say so)
};

// Positions of the last t tokens of a sequence of n_kv.
std::vector<int32_t> tail(int64_t t, int64_t n_kv) {
    std::vector<int32_t> pos(static_cast<size_t>(t));
    for (int64_t i = 0; i < t; ++i) pos[static_cast<size_t>(i)] = static_cast<int32_t>(n_kv - t + i);
    return pos;
}

std::string describe(const AttnCase& c) {
    std::string s = "d=" + std::to_string(c.d) + " dv=" + std::to_string(c.dv) + " hq=" + std::to_string(c.hq) +
                    " hkv=" + std::to_string(c.hkv) + " kv=" + std::to_string(c.n_kv) +
                    " t=" + std::to_string(c.pos.size()) + " " + std::string(dtype_name(c.kv)) +
                    (c.causal ? " causal" : " full") + (c.cache_view ? " cache-view" : " packed");
    if (c.window > 0) s += " window=" + std::to_string(c.window);
    return s;
}

// A [width, rows] KV input whose rows outside [lo, hi) are NaN.
TensorId kv_input(OpGraph& og, const std::string& name, DType type, int64_t width, int64_t rows, int64_t lo,
                  int64_t hi, uint64_t seed) {
    const TensorId t = og.input(name, type, {width, rows, 1, 1});
    std::vector<float> values(static_cast<size_t>(width * rows));
    uint64_t s = seed;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t i = 0; i < width; ++i) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            const float x = static_cast<float>(s >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f;
            values[static_cast<size_t>(r * width + i)] = r >= lo && r < hi ? x : std::numeric_limits<float>::quiet_NaN();
        }
    }
    og.set_values(t, std::move(values));
    return t;
}

void run_attn(const AttnCase& c) {
    OpGraph og;
    Graph& g = og.g;
    const auto t = static_cast<int64_t>(c.pos.size());
    const TensorId q = og.input("q", DType::F32, {c.d, c.hq, t, 1});
    const TensorId pos = og.input_i32("pos", c.pos);

    // Rows [lo, hi) are the keys some query may see; the rest of the cache is NaN.
    int64_t lo = 0, hi = c.n_kv;
    if (c.causal) {
        int32_t max_pos = -1, min_first = std::numeric_limits<int32_t>::max();
        for (int32_t p : c.pos) {
            max_pos = std::max(max_pos, p);
            if (p >= 0) min_first = std::min(min_first, c.window > 0 ? std::max(0, p - c.window + 1) : 0);
        }
        hi = std::clamp<int64_t>(max_pos + 1, 0, c.n_kv);
        lo = std::min<int64_t>(min_first, hi);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
    TensorId k, v;
    if (c.cache_view) {
        // blocks.cpp: one cache row of d * hkv values per position, viewed as [d, hkv, ctx].
        const int64_t ctx = c.n_kv + 5;
        const TensorId ck = kv_input(og, "cache_k", c.kv, c.d * c.hkv, ctx, lo, hi, 11);
        const TensorId cv = kv_input(og, "cache_v", c.kv, c.dv * c.hkv, ctx, lo, hi, 12);
        const Tensor K = g.tensor(ck);  // copies: adding views may move the tensor table
        const Tensor V = g.tensor(cv);
        k = g.view(ck, {c.d, c.hkv, c.n_kv, 1}, {K.nb[0], K.nb[0] * c.d, K.nb[1], K.nb[1] * c.n_kv}, 0);
        v = g.view(cv, {c.dv, c.hkv, c.n_kv, 1}, {V.nb[0], V.nb[0] * c.dv, V.nb[1], V.nb[1] * c.n_kv}, 0);
    } else {
        const TensorId kf = kv_input(og, "k", c.kv, c.d, c.hkv * c.n_kv, lo * c.hkv, hi * c.hkv, 11);
        const TensorId vf = kv_input(og, "v", c.kv, c.dv, c.hkv * c.n_kv, lo * c.hkv, hi * c.hkv, 12);
        k = g.reshape(kf, {c.d, c.hkv, c.n_kv, 1});
        v = g.reshape(vf, {c.dv, c.hkv, c.n_kv, 1});
    }
    // Vulkan computes in f32 for every cache type, as the CPU does over an f32 cache; over an
    // f16/bf16 cache the CPU rounds Q and the V sums to f16 as llama.cpp does (the op's threshold).
    const double cpu = c.kv == DType::F32 ? testing::kFloatSumsNmse : op_traits(Op::FlashAttn).nmse;
    check_op(og, g.flash_attn(q, k, v, pos, scale, c.causal, c.window),
             {.max_nmse = testing::kFloatSumsNmse, .max_nmse_cpu = cpu, .vulkan_supported = c.vulkan}, describe(c));
}

TEST(FlashAttn, HeadSizesAndGqa) {
    for (int64_t d : {8, 64, 80, 96, 128, 256}) {
        for (int64_t ratio : {1, 2, 4, 8}) {
            run_attn({.d = d, .dv = d, .hq = 8, .hkv = 8 / ratio, .n_kv = 64, .pos = tail(3, 64)});
        }
    }
}

TEST(FlashAttn, DecodeKvLengths) {
    // t = 1 with few heads: the key range is split across workgroups and merged.
    for (int64_t n_kv : {1, 7, 64, 300}) {
        for (DType kv : {DType::F16, DType::F32}) {
            run_attn({.d = 64, .dv = 64, .hq = 8, .hkv = 2, .n_kv = n_kv, .pos = {static_cast<int32_t>(n_kv - 1)}, .kv = kv});
        }
    }
    // Decode early in a long context: keys past the position are NaN and must not be read.
    run_attn({.d = 128, .dv = 128, .hq = 4, .hkv = 1, .n_kv = 300, .pos = {41}});
}

TEST(FlashAttn, PromptChunks) {
    // t = 17 over 300 keys, with a padding query (-1) in the chunk.
    std::vector<int32_t> pos = tail(17, 300);
    pos[16] = -1;
    run_attn({.d = 64, .dv = 64, .hq = 8, .hkv = 2, .n_kv = 300, .pos = pos});
    run_attn({.d = 128, .dv = 128, .hq = 32, .hkv = 8, .n_kv = 300, .pos = tail(17, 300)});
    run_attn({.d = 80, .dv = 80, .hq = 4, .hkv = 4, .n_kv = 7, .pos = {-1, 0, 1}, .kv = DType::F32});
}

// Prompt-sized batches of queries: GQA groups of 7 (Qwen2.5-0.5B) and 40, positions out of order
// and past the cache, a sliding window over 20 tokens.
TEST(FlashAttn, PromptBatchesGroupsAndWindows) {
    run_attn({.d = 64, .dv = 64, .hq = 14, .hkv = 2, .n_kv = 150, .pos = tail(19, 150)});
    run_attn({.d = 32, .dv = 32, .hq = 40, .hkv = 1, .n_kv = 90, .pos = tail(13, 90)});
    run_attn({.d = 16, .dv = 16, .hq = 4, .hkv = 2, .n_kv = 140, .pos = {-1, 0, 5, 139, 200, 17, 17, 64, 63, 65, 100}});
    run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 2, .n_kv = 300, .pos = tail(20, 300), .window = 70});
}

TEST(FlashAttn, PositionsOutOfOrder) {
    // A query that sees nothing, one past the KV length (clamped), repeated positions.
    run_attn({.d = 16, .dv = 16, .hq = 4, .hkv = 2, .n_kv = 40, .pos = {-1, 0, 5, 39, 100, 17, 17}});
}

TEST(FlashAttn, NonCausal) {
    for (int64_t n_kv : {1, 7, 64, 300}) {
        run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 2, .n_kv = n_kv, .pos = {0, 0, 0}, .causal = false});
    }
    // Padding positions do not limit non-causal keys.
    run_attn({.d = 96, .dv = 96, .hq = 2, .hkv = 1, .n_kv = 33, .pos = {-1}, .causal = false});
}

TEST(FlashAttn, SlidingWindow) {
    run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 2, .n_kv = 300, .pos = tail(3, 300), .window = 32});
    run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 1, .n_kv = 300, .pos = {299}, .window = 200});
    run_attn({.d = 8, .dv = 8, .hq = 2, .hkv = 2, .n_kv = 64, .pos = {-1, 3, 40, 63}, .window = 5});
    // A window of one key: each query sees only itself, over either cache type.
    for (DType kv : {DType::F16, DType::F32}) {
        run_attn({.d = 32, .dv = 32, .hq = 4, .hkv = 2, .n_kv = 90, .pos = {0, 40, 89}, .kv = kv, .window = 1});
    }
}

TEST(FlashAttn, KvDtypesAndValueSize) {
    for (DType kv : {DType::F32, DType::F16, DType::BF16}) {
        for (bool view : {true, false}) {
            run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 2, .n_kv = 70, .pos = tail(5, 70), .kv = kv, .cache_view = view});
        }
        // dv != d, not causal.
        run_attn({.d = 64, .dv = 48, .hq = 4, .hkv = 1, .n_kv = 33, .pos = {0, 0}, .kv = kv, .causal = false});
    }
}

TEST(FlashAttn, UnsupportedShapesStayOnCpu) {
    // Head sizes that are not whole vec4s, and q rows past the shader's 256 floats.
    run_attn({.d = 6, .dv = 6, .hq = 2, .hkv = 1, .n_kv = 9, .pos = {8}, .vulkan = false});
    run_attn({.d = 320, .dv = 64, .hq = 1, .hkv = 1, .n_kv = 5, .pos = {4}, .vulkan = false});
}

TEST(FlashAttn, LongKv) {
    // 4096 keys of d = 256 in one case (lavapipe's loop limit), few heads.
    run_attn({.d = 256, .dv = 256, .hq = 2, .hkv = 1, .n_kv = 4096, .pos = {4095}});
    // 512 (head, token) units: no split, each workgroup walks up to 32 tiles.
    run_attn({.d = 16, .dv = 16, .hq = 64, .hkv = 8, .n_kv = 4096, .pos = tail(8, 4096)});
    // The CPU's f16-cache path over long caches: decode and a 16-token chunk.
    run_attn({.d = 128, .dv = 128, .hq = 8, .hkv = 2, .n_kv = 1500, .pos = {1499}});
    run_attn({.d = 64, .dv = 64, .hq = 4, .hkv = 4, .n_kv = 1100, .pos = tail(16, 1100)});
    if (!testing::full_mode()) return;
    run_attn({.d = 128, .dv = 128, .hq = 32, .hkv = 8, .n_kv = 4096, .pos = {4095}});
    run_attn({.d = 128, .dv = 128, .hq = 32, .hkv = 8, .n_kv = 4096, .pos = {1000}});
    run_attn({.d = 128, .dv = 128, .hq = 32, .hkv = 8, .n_kv = 4096, .pos = tail(64, 4096)});
    run_attn({.d = 256, .dv = 256, .hq = 16, .hkv = 8, .n_kv = 4096, .pos = tail(16, 4096), .kv = DType::F32});
    run_attn({.d = 64, .dv = 64, .hq = 32, .hkv = 4, .n_kv = 2048, .pos = tail(32, 2048), .window = 1024});
}

}  // namespace
}  // namespace kiln
