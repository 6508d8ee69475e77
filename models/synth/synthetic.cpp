#include "models/synth/synthetic.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "graph/error.h"
#include "graph/parallel_rows.h"
#include "graph/quant/quantize.h"
#include "models/gguf/gguf_writer.h"
#include "models/quantize/quant_mix.h"
#include "models/synth/synth_vocab.h"

namespace kiln {
namespace {

uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One generator per (tensor, row): the weights do not depend on how rows are split over threads.
class Rng {
public:
    Rng(uint64_t seed, uint64_t tensor, uint64_t row) : s_(mix64(seed ^ mix64(tensor + 1) ^ mix64(row * 0x9E37u))) {}
    uint64_t next() { return mix64(s_ += 0x9E3779B97F4A7C15ull); }
    // Approximately N(0, 1): the sum of four 16-bit uniforms from one draw (Irwin-Hall), cheap
    // enough for billions of weights.
    float normal() {
        const uint64_t r = next();
        const float sum = static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
        return (sum * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
    }

private:
    uint64_t s_;
};

class TensorMaker {
public:
    TensorMaker(GgufWriter& w, const SynthOptions& o) : w_(w), o_(o) {
        threads_ = o.threads ? o.threads : default_offline_threads();
    }

    // A [cols, rows] matrix (cols contiguous), or `experts` of them stacked as [cols, rows,
    // experts], weights ~ N(0, 1/cols), in the matrix's dtype (`f32`: always f32, a router).
    void matrix(const std::string& name, uint32_t cols, uint32_t rows, uint32_t experts = 0, bool f32 = false) {
        DType type = o_.matrix_type ? o_.matrix_type(name, cols, rows) : fitting_type(o_.dtype, cols);
        if (f32) type = DType::F32;
        if (!o_.matrix_type && !f32 && type != o_.dtype) ++summary_.fallbacks;
        const std::optional<uint64_t> row = row_bytes(type, cols);
        if (!row) {
            throw Error("synth: tensor '" + name + "': rows of " + std::to_string(cols) + " are not a multiple of " +
                        std::string(dtype_name(type)) + "'s block of " + std::to_string(info(type).block_size));
        }
        const uint64_t id = index_++;
        const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
        const uint64_t all_rows = uint64_t{rows} * std::max(experts, 1u);
        std::vector<uint64_t> dims{cols, rows};
        if (experts) dims.push_back(experts);
        add(name, type, std::move(dims), *row * all_rows, [this, id, type, cols, scale, row = *row](std::span<uint8_t> out) {
            parallel_rows(out.size() / row, threads_, [&](uint64_t begin, uint64_t end) {
                std::vector<float> x(cols);
                for (uint64_t r = begin; r < end; ++r) {
                    Rng rng(o_.seed, id, r);
                    for (float& v : x) v = rng.normal() * scale;
                    quantize_row(type, x.data(), out.data() + row * r, cols);
                }
            });
        });
    }

    // An f32 vector around `center` (norm weights near 1, biases near 0).
    void vector(const std::string& name, uint32_t n, float center, float spread) {
        const uint64_t id = index_++;
        add(name, DType::F32, {n}, uint64_t{n} * 4, [this, id, n, center, spread](std::span<uint8_t> out) {
            Rng rng(o_.seed, id, 0);
            for (uint32_t i = 0; i < n; ++i) {
                const float v = center + spread * rng.normal();
                std::memcpy(out.data() + 4 * i, &v, 4);
            }
        });
    }

    size_t count() const { return index_; }
    const SynthSummary& summary() const { return summary_; }

private:
    void add(const std::string& name, DType type, std::vector<uint64_t> dims, uint64_t bytes,
             std::function<void(std::span<uint8_t>)> fill) {
        uint64_t elements = 1;
        for (uint64_t d : dims) elements *= d;
        summary_.parameters += elements;
        summary_.bytes += bytes;
        const size_t done = index_;  // this tensor included
        w_.add_tensor(name, type, std::move(dims), [this, name, done, fill = std::move(fill)](std::span<uint8_t> out) {
            fill(out);
            if (o_.progress) o_.progress(name, done, count());
        });
    }

    GgufWriter& w_;
    const SynthOptions& o_;
    unsigned threads_ = 1;
    uint64_t index_ = 0;
    SynthSummary summary_;
};

void write_hparams(GgufWriter& w, const SynthShape& s, uint32_t n_vocab) {
    const std::string a = s.arch + ".";
    w.set("general.architecture", s.arch);
    w.set("general.name", "kiln-synthetic-" + s.name);
    w.set("general.alignment", uint32_t{32});
    w.set(a + "vocab_size", n_vocab);
    w.set(a + "context_length", s.context);
    w.set(a + "embedding_length", s.n_embd);
    w.set(a + "block_count", s.n_layer);
    w.set(a + "feed_forward_length", s.n_ff);
    w.set(a + "attention.head_count", s.n_head);
    w.set(a + "attention.head_count_kv", s.n_head_kv);
    if (s.head_dim) {
        w.set(a + "attention.key_length", s.head_dim);
        w.set(a + "attention.value_length", s.head_dim);
    }
    w.set(a + "rope.dimension_count", s.head_size());
    w.set(a + "rope.freq_base", s.rope_base);
    w.set(a + "attention.layer_norm_rms_epsilon", s.norm_eps);
    if (s.n_expert) {
        w.set(a + "expert_count", s.n_expert);
        w.set(a + "expert_used_count", s.n_expert_used);
        // Mixtral (llama) has no key of its own for the experts' width: feed_forward_length is it.
        if (s.arch != "llama") w.set(a + "expert_feed_forward_length", s.n_ff_exp);
        if (s.n_ff_shexp) w.set(a + "expert_shared_feed_forward_length", s.n_ff_shexp);
    }
}

}  // namespace

SynthSummary write_synthetic_model(const std::filesystem::path& path, const SynthOptions& o) {
    const SynthShape& s = o.shape;
    if (!info(o.dtype).computable || o.dtype == DType::I32 || o.dtype == DType::Q8_K) {
        throw Error("synth: dtype " + std::string(dtype_name(o.dtype)) + " cannot hold weights");
    }
    if (s.arch != "llama" && s.arch != "qwen2" && s.arch != "qwen3" && s.arch != "smollm3" && s.arch != "qwen2moe" &&
        s.arch != "qwen3moe") {
        throw Error("synth: shape '" + s.name + "' has architecture '" + s.arch + "', which synth cannot write");
    }
    GgufWriter w;
    uint32_t n_vocab = s.n_vocab;
    std::optional<GgufFile> vocab_file;
    if (o.vocab_from) {
        vocab_file.emplace(GgufFile::open(*o.vocab_from));
        n_vocab = copy_vocab(w, *vocab_file);
    } else {
        write_builtin_vocab(w, s);
    }
    write_hparams(w, s, n_vocab);
    if (o.file_type) w.set("general.file_type", *o.file_type);
    // Keep the metadata first, as converted models have it (the vocabulary was set before).
    TensorMaker t(w, o);
    const bool tied = o.tied_output.value_or(s.tied_output);
    const uint32_t hd = s.head_size(), q_dim = hd * s.n_head, kv_dim = hd * s.n_head_kv;
    t.matrix("token_embd.weight", s.n_embd, n_vocab);
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        t.vector(p + "attn_norm.weight", s.n_embd, 1.0f, 0.1f);
        t.matrix(p + "attn_q.weight", s.n_embd, q_dim);
        t.matrix(p + "attn_k.weight", s.n_embd, kv_dim);
        t.matrix(p + "attn_v.weight", s.n_embd, kv_dim);
        if (s.arch == "qwen2" || s.arch == "qwen2moe") {
            t.vector(p + "attn_q.bias", q_dim, 0.0f, 0.02f);
            t.vector(p + "attn_k.bias", kv_dim, 0.0f, 0.02f);
            t.vector(p + "attn_v.bias", kv_dim, 0.0f, 0.02f);
        }
        if (s.arch == "qwen3" || s.arch == "qwen3moe") {
            t.vector(p + "attn_q_norm.weight", hd, 1.0f, 0.1f);
            t.vector(p + "attn_k_norm.weight", hd, 1.0f, 0.1f);
        }
        t.matrix(p + "attn_output.weight", q_dim, s.n_embd);
        t.vector(p + "ffn_norm.weight", s.n_embd, 1.0f, 0.1f);
        if (s.n_expert) {
            t.matrix(p + "ffn_gate_inp.weight", s.n_embd, s.n_expert, 0, true);
            t.matrix(p + "ffn_gate_exps.weight", s.n_embd, s.n_ff_exp, s.n_expert);
            t.matrix(p + "ffn_up_exps.weight", s.n_embd, s.n_ff_exp, s.n_expert);
            t.matrix(p + "ffn_down_exps.weight", s.n_ff_exp, s.n_embd, s.n_expert);
            if (s.n_ff_shexp) {
                t.vector(p + "ffn_gate_inp_shexp.weight", s.n_embd, 0.0f, 1.0f / std::sqrt(static_cast<float>(s.n_embd)));
                t.matrix(p + "ffn_gate_shexp.weight", s.n_embd, s.n_ff_shexp);
                t.matrix(p + "ffn_up_shexp.weight", s.n_embd, s.n_ff_shexp);
                t.matrix(p + "ffn_down_shexp.weight", s.n_ff_shexp, s.n_embd);
            }
            continue;
        }
        t.matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff);
        t.matrix(p + "ffn_up.weight", s.n_embd, s.n_ff);
        t.matrix(p + "ffn_down.weight", s.n_ff, s.n_embd);
    }
    t.vector("output_norm.weight", s.n_embd, 1.0f, 0.1f);
    if (!tied) t.matrix("output.weight", s.n_embd, n_vocab);
    w.write(path, o.header_only);
    SynthSummary summary = t.summary();
    summary.n_vocab = n_vocab;
    return summary;
}

}  // namespace kiln
