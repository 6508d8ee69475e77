// Flash attention: GQA ratios 1/2/4/8, head sizes 8..256, f32/f16/bf16 K and V, causal by
// per-query positions (including a query that sees nothing), long KV, and K/V as views of a
// longer cache.
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::check_case;
using testing::random_floats;

struct AttnCase {
    int64_t d, dv, hq, hkv, t, n_kv;
    DType kv;
    bool causal;
    std::vector<int32_t> pos;
};

void run_attn(const AttnCase& p, std::vector<int> threads = {1, 2, 3}) {
    Case c;
    c.threshold = 5e-4;
    const int64_t cap = p.n_kv + 3;  // the cache is longer than the visible KV
    const TensorId q = c.input("q", DType::F32, {p.d, p.hq, p.t, 1}, random_floats(static_cast<size_t>(p.d * p.hq * p.t), 30));
    const TensorId kc = c.input("kcache", p.kv, {p.d, p.hkv, cap, 1}, random_floats(static_cast<size_t>(p.d * p.hkv * cap), 31));
    const TensorId vc = c.input("vcache", p.kv, {p.dv, p.hkv, cap, 1}, random_floats(static_cast<size_t>(p.dv * p.hkv * cap), 32));
    const Tensor& K = c.g.tensor(kc);
    const Tensor& V = c.g.tensor(vc);
    const TensorId k = c.g.view(kc, {p.d, p.hkv, p.n_kv, 1}, K.nb, 0);
    const TensorId v = c.g.view(vc, {p.dv, p.hkv, p.n_kv, 1}, V.nb, 0);
    const TensorId pos = c.g.input("pos", DType::I32, {p.t, 1, 1, 1});
    c.set(pos, p.pos);
    c.outputs = {c.g.flash_attn(q, k, v, pos, 1.0f / std::sqrt(static_cast<float>(p.d)), p.causal)};
    check_case(c,
               "attn d=" + std::to_string(p.d) + " hq=" + std::to_string(p.hq) + " hkv=" + std::to_string(p.hkv) +
                   " t=" + std::to_string(p.t) + " kv=" + std::to_string(p.n_kv) + " " + std::string(dtype_name(p.kv)),
               threads);
}

std::vector<int32_t> tail_positions(int64_t t, int64_t n_kv) {
    std::vector<int32_t> pos(static_cast<size_t>(t));
    for (int64_t i = 0; i < t; ++i) pos[i] = static_cast<int32_t>(n_kv - t + i);
    return pos;
}

TEST(CpuAttention, GqaRatiosAndHeadSizes) {
    for (int64_t ratio : {1, 2, 4, 8}) {
        for (int64_t d : {8, 64, 80, 128, 256}) {
            run_attn({d, d, 8, 8 / ratio, 3, 70, DType::F16, true, tail_positions(3, 70)});
        }
    }
}

TEST(CpuAttention, KvDtypes) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
        run_attn({64, 64, 4, 2, 5, 130, t, true, tail_positions(5, 130)});
        run_attn({64, 48, 4, 1, 2, 33, t, false, {0, 0}});  // dv != d, not causal
    }
}

TEST(CpuAttention, CausalByPositions) {
    // Out-of-order positions, one beyond the KV length (clamped) and one that sees nothing.
    run_attn({32, 32, 4, 2, 6, 40, DType::F16, true, {-1, 0, 5, 39, 100, 17}});
}

TEST(CpuAttention, LongKv) {
    run_attn({128, 128, 8, 2, 1, 1500, DType::F16, true, {1499}}, {1, 2});
    run_attn({64, 64, 4, 4, 16, 1100, DType::F16, true, tail_positions(16, 1100)}, {3});
}

}  // namespace
}  // namespace kiln
