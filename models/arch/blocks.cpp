#include "models/arch/blocks.h"

#include <cmath>

namespace kiln {

TensorId rms_norm_weighted(Graph& g, TensorId x, TensorId weight, float eps) {
    return g.mul(g.rms_norm(x, eps), weight);
}

std::string kv_cache_name(const std::string& state_prefix, int layer, char which) {
    return state_prefix + "cache_" + std::string(1, which) + "." + std::to_string(layer);
}

namespace {

// One sequence's K/V written into its cache at `pos`, then flash attention of its queries over
// that cache. q [D, Hq, T], k [D * Hkv, T], v [Dv * Hkv, T] -> [Dv, Hq, T].
TensorId cached_attention(BlockContext& c, int layer, const std::string& state_prefix, TensorId q, TensorId k,
                          TensorId v, TensorId pos) {
    Graph& g = c.g;
    const int64_t D = c.hp.head_dim, Dv = c.hp.head_dim_v, Hkv = c.hp.n_head_kv, C = c.shape.n_ctx;
    // One cache row per position: [D * Hkv] values of K (and V), written at the tokens' positions.
    TensorId cache_k = g.state(kv_cache_name(state_prefix, layer, 'k'), c.shape.kv_type, {D * Hkv, C, 1, 1});
    TensorId cache_v = g.state(kv_cache_name(state_prefix, layer, 'v'), c.shape.kv_type, {Dv * Hkv, C, 1, 1});
    g.set_rows(cache_k, k, pos);
    g.set_rows(cache_v, v, pos);
    const Tensor ck = g.tensor(cache_k);  // copies: g.view() may move the tensor table
    const Tensor cv = g.tensor(cache_v);
    const uint64_t k_head = ck.nb[0] * static_cast<uint64_t>(D);
    const uint64_t v_head = cv.nb[0] * static_cast<uint64_t>(Dv);
    TensorId kview = g.view(cache_k, {D, Hkv, C, 1}, {ck.nb[0], k_head, ck.nb[1], ck.nb[1] * C}, 0);
    TensorId vview = g.view(cache_v, {Dv, Hkv, C, 1}, {cv.nb[0], v_head, cv.nb[1], cv.nb[1] * C}, 0);
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    return g.flash_attn(q, kview, vview, pos, scale, true, static_cast<int32_t>(c.hp.sliding_window));
}

// Token `i` of a tensor whose dimension `dim` counts tokens, as a one-token view.
TensorId token_view(Graph& g, TensorId t, int dim, int64_t i) {
    const Tensor x = g.tensor(t);
    Shape ne = x.ne;
    ne[dim] = 1;
    return g.view(t, ne, x.nb, x.nb[dim] * static_cast<uint64_t>(i));
}

}  // namespace

TensorId attention_block(BlockContext& c, int layer, TensorId x, const AttentionWeights& w, const RopeParams* rope) {
    Graph& g = c.g;
    const int64_t T = c.shape.n_tokens;
    const int64_t D = c.hp.head_dim, Dv = c.hp.head_dim_v;
    const int64_t Hq = c.hp.n_head, Hkv = c.hp.n_head_kv;

    TensorId q = g.matmul(w.wq, x);
    TensorId k = g.matmul(w.wk, x);
    TensorId v = g.matmul(w.wv, x);
    if (w.bq != kNoTensor) q = g.add(q, w.bq);
    if (w.bk != kNoTensor) k = g.add(k, w.bk);
    if (w.bv != kNoTensor) v = g.add(v, w.bv);
    q = g.reshape(q, {D, Hq, T, 1});
    k = g.reshape(k, {D, Hkv, T, 1});
    if (w.q_norm != kNoTensor) q = rms_norm_weighted(g, q, w.q_norm, c.hp.norm_eps);
    if (w.k_norm != kNoTensor) k = rms_norm_weighted(g, k, w.k_norm, c.hp.norm_eps);
    if (rope) {
        q = g.rope(q, c.positions, *rope, c.rope_factors);
        k = g.rope(k, c.positions, *rope, c.rope_factors);
    }

    k = g.reshape(k, {D * Hkv, T, 1, 1});
    v = g.reshape(v, {Dv * Hkv, T, 1, 1});
    TensorId attn = kNoTensor;
    if (c.shape.seq_state_prefixes.empty()) {
        attn = cached_attention(c, layer, c.shape.state_prefix, q, k, v, c.positions);
    } else {
        // Batched decode: each token is its own sequence with its own cache.
        for (int64_t i = 0; i < T; ++i) {
            TensorId a = cached_attention(c, layer, c.shape.seq_state_prefixes[static_cast<size_t>(i)],
                                          token_view(g, q, 2, i), token_view(g, k, 1, i), token_view(g, v, 1, i),
                                          token_view(g, c.positions, 0, i));
            attn = attn == kNoTensor ? a : g.concat(attn, a, 2);
        }
    }
    attn = g.reshape(attn, {Dv * Hq, T, 1, 1});
    return g.matmul(w.wo, attn);
}

TensorId swiglu_ffn(Graph& g, TensorId x, TensorId gate, TensorId up, TensorId down) {
    return g.matmul(down, g.swiglu(g.matmul(gate, x), g.matmul(up, x)));
}

TensorId moe_ffn(Graph& g, TensorId x, const MoeWeights& w, int used, bool renormalize) {
    const int64_t E = g.tensor(x).ne[0], T = g.tensor(x).ne[1];
    const int64_t experts = g.tensor(w.router).ne[1];
    const TensorId logits = g.matmul(w.router, x);  // [experts, T]
    const TensorId probs = g.softmax(logits, kNoTensor, 1.0f);
    const TensorId ids = g.top_k(probs, used);  // [used, T]
    // Each token's chosen weights, gathered from its own row: [1, used, T].
    TensorId weights;
    if (renormalize) {
        const TensorId chosen = g.get_rows(g.reshape(logits, {1, experts, T, 1}), ids);
        weights = g.reshape(g.softmax(g.reshape(chosen, {used, T, 1, 1}), kNoTensor, 1.0f), {1, used, T, 1});
    } else {
        weights = g.get_rows(g.reshape(probs, {1, experts, T, 1}), ids);
    }
    const TensorId x3 = g.reshape(x, {E, 1, T, 1});
    // Gate before up, in this order whatever the compiler's argument order (nodes are added in order).
    const TensorId gate = g.mul_mat_id(w.gate_exps, x3, ids);
    const TensorId up = g.mul_mat_id(w.up_exps, x3, ids);
    const TensorId h = g.swiglu(gate, up);  // [F, used, T]
    const TensorId y = g.mul(g.mul_mat_id(w.down_exps, h, ids), weights);  // [E, used, T]
    // The sum over the chosen experts: slot views [E, T] added up.
    const Tensor Y = g.tensor(y);
    const auto slot = [&](int64_t i) {
        return g.view(y, {E, T, 1, 1}, {Y.nb[0], Y.nb[2], Y.nb[2] * static_cast<uint64_t>(T), Y.nb[2] * static_cast<uint64_t>(T)},
                      Y.nb[1] * static_cast<uint64_t>(i));
    };
    TensorId out = slot(0);
    for (int64_t i = 1; i < used; ++i) out = g.add(out, slot(i));
    if (w.shared_gate != kNoTensor) {
        const TensorId shared = swiglu_ffn(g, x, w.shared_gate, w.shared_up, w.shared_down);
        out = g.add(out, g.mul(shared, g.sigmoid(g.matmul(w.shared_router, x))));
    }
    return out;
}

}  // namespace kiln
