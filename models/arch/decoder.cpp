// The decoder every supported architecture is built from (see decoder.h).
#include "graph/error.h"
#include "models/arch/blocks.h"
#include "models/arch/decoder.h"
#include "models/model.h"

namespace kiln {

ModelGraph build_decoder(const Model& m, const GraphShape& shape, const DecoderStyle& style) {
    const ModelHparams& hp = m.hparams();
    const int64_t E = hp.n_embd, V = hp.vocab_size, F = hp.n_ff;
    const int64_t Dq = int64_t{hp.head_dim} * hp.n_head;
    const int64_t Dk = int64_t{hp.head_dim} * hp.n_head_kv;
    const int64_t Dv = int64_t{hp.head_dim_v} * hp.n_head_kv;
    const int64_t T = shape.n_tokens;

    if (!shape.seq_state_prefixes.empty() && shape.seq_state_prefixes.size() != static_cast<size_t>(T)) {
        throw Error("batched decode graph: " + std::to_string(shape.seq_state_prefixes.size()) + " sequences for " +
                    std::to_string(T) + " tokens");
    }
    ModelGraph mg;
    Graph& g = mg.graph;
    mg.tokens = g.input("tokens", DType::I32, {T, 1, 1, 1});
    mg.positions = g.input("positions", DType::I32, {T, 1, 1, 1});
    mg.output_rows = g.input("output_rows", DType::I32, {shape.logits_all ? T : 1, 1, 1, 1});
    BlockContext c{g, hp, shape, mg.positions};

    RopeParams rope;
    rope.mode = style.rope_mode;
    rope.n_dims = static_cast<int32_t>(hp.rope_dims);
    rope.freq_base = hp.rope_freq_base;
    rope.freq_scale = hp.rope_freq_scale;

    if (const GgufTensorInfo* f = m.optional("rope_freqs.weight", {int64_t{hp.rope_dims} / 2})) {
        c.rope_factors = m.weight(g, *f);
    }

    const GgufTensorInfo& embd = m.require("token_embd.weight", {E, V});
    TensorId token_embd = m.weight(g, embd);
    TensorId x = g.get_rows(token_embd, mg.tokens);

    for (int l = 0; l < static_cast<int>(hp.n_layer); ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        AttentionWeights w;
        w.wq = m.weight(g, m.require(p + "attn_q.weight", {E, Dq}));
        w.wk = m.weight(g, m.require(p + "attn_k.weight", {E, Dk}));
        w.wv = m.weight(g, m.require(p + "attn_v.weight", {E, Dv}));
        w.wo = m.weight(g, m.require(p + "attn_output.weight", {int64_t{hp.head_dim_v} * hp.n_head, E}));
        if (auto* b = m.optional(p + "attn_q.bias", {Dq})) w.bq = m.weight(g, *b);
        if (auto* b = m.optional(p + "attn_k.bias", {Dk})) w.bk = m.weight(g, *b);
        if (auto* b = m.optional(p + "attn_v.bias", {Dv})) w.bv = m.weight(g, *b);
        if (style.qk_norm) {
            w.q_norm = m.weight(g, m.require(p + "attn_q_norm.weight", {hp.head_dim}));
            w.k_norm = m.weight(g, m.require(p + "attn_k_norm.weight", {hp.head_dim}));
        }
        TensorId attn_norm = m.weight(g, m.require(p + "attn_norm.weight", {E}));
        TensorId ffn_norm = m.weight(g, m.require(p + "ffn_norm.weight", {E}));
        MoeWeights moe;
        TensorId gate = kNoTensor, up = kNoTensor, down = kNoTensor;
        if (hp.n_expert > 0) {
            const int64_t X = hp.n_expert, Fe = hp.n_ff_exp;
            moe.router = m.weight(g, m.require(p + "ffn_gate_inp.weight", {E, X}));
            moe.gate_exps = m.weight(g, m.require(p + "ffn_gate_exps.weight", {E, Fe, X}));
            moe.up_exps = m.weight(g, m.require(p + "ffn_up_exps.weight", {E, Fe, X}));
            moe.down_exps = m.weight(g, m.require(p + "ffn_down_exps.weight", {Fe, E, X}));
            if (style.moe_shared_expert) {
                const int64_t Fs = hp.n_ff_shexp;
                moe.shared_router = m.weight(g, m.require(p + "ffn_gate_inp_shexp.weight", {E}));
                moe.shared_gate = m.weight(g, m.require(p + "ffn_gate_shexp.weight", {E, Fs}));
                moe.shared_up = m.weight(g, m.require(p + "ffn_up_shexp.weight", {E, Fs}));
                moe.shared_down = m.weight(g, m.require(p + "ffn_down_shexp.weight", {Fs, E}));
            }
        } else {
            gate = m.weight(g, m.require(p + "ffn_gate.weight", {E, F}));
            up = m.weight(g, m.require(p + "ffn_up.weight", {E, F}));
            down = m.weight(g, m.require(p + "ffn_down.weight", {F, E}));
        }

        g.set_layer(l);
        TensorId h = rms_norm_weighted(g, x, attn_norm, hp.norm_eps);
        const bool no_rope = style.nope_every > 0 && (l + 1) % style.nope_every == 0;
        x = g.add(x, attention_block(c, l, h, w, no_rope ? nullptr : &rope));
        h = rms_norm_weighted(g, x, ffn_norm, hp.norm_eps);
        x = g.add(x, hp.n_expert > 0 ? moe_ffn(g, h, moe, static_cast<int>(hp.n_expert_used), style.moe_renormalize)
                                     : swiglu_ffn(g, h, gate, up, down));
    }

    g.set_layer(kNoLayer);
    // Only the rows whose logits (or embeddings) are read go on: the norm is per row, so taking
    // them first gives the same values for less work, and leaves the norm next to the head.
    x = g.get_rows(x, mg.output_rows);
    x = rms_norm_weighted(g, x, m.weight(g, m.require("output_norm.weight", {E})), hp.norm_eps);
    if (shape.embeddings) {
        mg.logits = x;
        g.set_name(mg.logits, "embeddings");
        g.mark_output(mg.logits);
        return mg;
    }
    const GgufTensorInfo* out = m.optional("output.weight", {E, V});
    mg.logits = g.matmul(out ? m.weight(g, *out) : token_embd, x);
    g.set_name(mg.logits, "logits");
    g.mark_output(mg.logits);
    return mg;
}

}  // namespace kiln
