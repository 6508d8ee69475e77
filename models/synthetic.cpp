#include "models/synthetic.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "graph/error.h"
#include "graph/quant/quantize.h"
#include "models/gguf/gguf_writer.h"

namespace kiln {
namespace {

const SynthShape kShapes[] = {
    {"tiny", 256, 4, 8, 4, 768, 512, 2048},  // rows fit every block size (256)
    {"tinyllama", 2048, 22, 32, 4, 5632, 32000, 2048},
    {"llama2-7b", 4096, 32, 32, 32, 11008, 32000, 4096},
};

// splitmix64: small, fast and deterministic across platforms.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform() { return static_cast<float>((next() >> 40) * (1.0 / 16777216.0)); }  // [0, 1)
    // Approximately normal (sum of four uniforms), cheap enough for billions of weights.
    float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }

private:
    uint64_t s_;
};

std::vector<std::string> spm_vocab(uint32_t n_vocab, std::vector<float>& scores, std::vector<int32_t>& types) {
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};  // unknown, control, control
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.push_back(buf);
        types.push_back(6);  // byte
    }
    // Word pieces: letters, then "▁" + letter, then letter pairs, until the vocabulary is full.
    const std::string space = "\xe2\x96\x81";
    std::vector<std::string> pieces;
    for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(space + c);
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(std::string{a, b});
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(space + a + b);
    for (size_t i = 0; tokens.size() < n_vocab; ++i) {
        tokens.push_back(i < pieces.size() ? pieces[i] : "<piece" + std::to_string(i) + ">");
        types.push_back(i < pieces.size() ? 1 : 4);  // normal, or user-defined filler
    }
    tokens.resize(n_vocab);
    types.resize(n_vocab);
    scores.assign(n_vocab, 0.0f);
    for (uint32_t i = 0; i < n_vocab; ++i) scores[i] = types[i] == 1 ? -static_cast<float>(i) : 0.0f;
    return tokens;
}

class TensorMaker {
public:
    TensorMaker(GgufWriter& w, DType dtype, uint64_t seed) : w_(w), dtype_(dtype), rng_(seed) {}

    // A [cols, rows] matrix (cols contiguous) with weights ~ N(0, 1/cols).
    void matrix(const std::string& name, uint32_t cols, uint32_t rows) {
        const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
        std::optional<uint64_t> row = row_bytes(dtype_, cols);
        if (!row) {
            throw Error("synth: tensor '" + name + "': rows of " + std::to_string(cols) + " are not a multiple of " +
                        std::string(dtype_name(dtype_)) + "'s block of " + std::to_string(info(dtype_).block_size));
        }
        std::vector<float> x(cols);
        std::vector<uint8_t> data(*row * rows);
        for (uint32_t r = 0; r < rows; ++r) {
            for (float& v : x) v = rng_.normal() * scale;
            quantize_row(dtype_, x.data(), data.data() + *row * r, cols);
        }
        w_.add_tensor(name, dtype_, {cols, rows}, std::move(data));
    }

    void norm(const std::string& name, uint32_t n) {
        std::vector<float> x(n);
        for (float& v : x) v = 1.0f + 0.1f * rng_.normal();
        std::vector<uint8_t> data(n * sizeof(float));
        std::memcpy(data.data(), x.data(), data.size());
        w_.add_tensor(name, DType::F32, {n}, std::move(data));
    }

private:
    GgufWriter& w_;
    DType dtype_;
    Rng rng_;
};

}  // namespace

std::optional<SynthShape> synth_shape(std::string_view name) {
    for (const SynthShape& s : kShapes) {
        if (s.name == name) return s;
    }
    return std::nullopt;
}

std::vector<std::string> synth_shape_names() {
    std::vector<std::string> names;
    for (const SynthShape& s : kShapes) names.push_back(s.name);
    return names;
}

void write_synthetic_llama(const std::filesystem::path& path, const SynthOptions& o) {
    const SynthShape& s = o.shape;
    if (!info(o.dtype).computable || info(o.dtype).name == "i32") {
        throw Error("synth: dtype " + std::string(dtype_name(o.dtype)) + " cannot hold weights");
    }
    const uint32_t head_dim = s.n_embd / s.n_head;
    GgufWriter w;
    w.set("general.architecture", std::string("llama"));
    w.set("general.name", "kiln-synthetic-" + s.name);
    w.set("general.alignment", uint32_t{32});
    w.set("llama.context_length", s.context);
    w.set("llama.embedding_length", s.n_embd);
    w.set("llama.block_count", s.n_layer);
    w.set("llama.feed_forward_length", s.n_ff);
    w.set("llama.attention.head_count", s.n_head);
    w.set("llama.attention.head_count_kv", s.n_head_kv);
    w.set("llama.rope.dimension_count", head_dim);
    w.set("llama.rope.freq_base", 10000.0f);
    w.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    std::vector<float> scores;
    std::vector<int32_t> types;
    w.set("tokenizer.ggml.model", std::string("llama"));
    w.set("tokenizer.ggml.tokens", gguf_string_array(spm_vocab(s.n_vocab, scores, types)));
    w.set("tokenizer.ggml.scores", gguf_f32_array(scores));
    w.set("tokenizer.ggml.token_type", gguf_i32_array(types));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    w.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
    w.set("tokenizer.ggml.add_bos_token", true);

    TensorMaker t(w, o.dtype, o.seed);
    const uint32_t kv_dim = head_dim * s.n_head_kv;
    t.matrix("token_embd.weight", s.n_embd, s.n_vocab);
    t.norm("output_norm.weight", s.n_embd);
    if (!o.tied_output) t.matrix("output.weight", s.n_embd, s.n_vocab);
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        t.norm(p + "attn_norm.weight", s.n_embd);
        t.matrix(p + "attn_q.weight", s.n_embd, s.n_embd);
        t.matrix(p + "attn_k.weight", s.n_embd, kv_dim);
        t.matrix(p + "attn_v.weight", s.n_embd, kv_dim);
        t.matrix(p + "attn_output.weight", s.n_embd, s.n_embd);
        t.norm(p + "ffn_norm.weight", s.n_embd);
        t.matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff);
        t.matrix(p + "ffn_up.weight", s.n_embd, s.n_ff);
        t.matrix(p + "ffn_down.weight", s.n_ff, s.n_embd);
    }
    w.write(path);
}

}  // namespace kiln
