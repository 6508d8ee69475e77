#include "models/synth/synth_shapes.h"

namespace kiln {
namespace {

SynthShape shape(std::string name, std::string arch, uint32_t n_embd, uint32_t n_layer, uint32_t n_head,
                 uint32_t n_head_kv, uint32_t n_ff, uint32_t n_vocab, uint32_t context) {
    SynthShape s;
    s.name = std::move(name);
    s.arch = std::move(arch);
    s.n_embd = n_embd;
    s.n_layer = n_layer;
    s.n_head = n_head;
    s.n_head_kv = n_head_kv;
    s.n_ff = n_ff;
    s.n_vocab = n_vocab;
    s.context = context;
    return s;
}

// Qwen-family defaults: byte-level BPE with Qwen2's pre-tokenizer, RMS epsilon 1e-6, base 1e6.
SynthShape qwen(SynthShape s, bool tied, uint32_t head_dim = 0) {
    s.rope_base = 1000000.0f;
    s.norm_eps = 1e-6f;
    s.tied_output = tied;
    s.head_dim = head_dim;
    s.vocab = SynthVocab::ByteLevelBpe;
    s.bpe_pre = "qwen2";
    return s;
}

SynthShape llama3(SynthShape s, float rope_base, float eps, bool tied) {
    s.rope_base = rope_base;
    s.norm_eps = eps;
    s.tied_output = tied;
    s.vocab = SynthVocab::ByteLevelBpe;
    s.bpe_pre = "llama-bpe";
    return s;
}

// Experts per layer, used per token, their width, and a shared expert's (0: none).
SynthShape experts(SynthShape s, uint32_t n, uint32_t used, uint32_t ff, uint32_t shared = 0) {
    s.n_expert = n;
    s.n_expert_used = used;
    s.n_ff_exp = ff;
    s.n_ff_shexp = shared;
    return s;
}

std::vector<SynthShape> make_shapes() {
    std::vector<SynthShape> v;
    // Small shapes for tests: every matrix row a multiple of 256, so every dtype fits.
    v.push_back(shape("tiny", "llama", 256, 4, 8, 4, 768, 512, 2048));
    v.push_back(qwen(shape("qwen2-tiny", "qwen2", 256, 2, 4, 2, 512, 1024, 4096), true));
    v.push_back(qwen(shape("qwen3-tiny", "qwen3", 256, 2, 4, 2, 512, 1024, 4096), false, 128));
    v.push_back(llama3(shape("smollm3-tiny", "smollm3", 256, 4, 4, 2, 512, 1024, 4096), 5000000.0f, 1e-6f, true));
    v.push_back(experts(shape("mixtral-tiny", "llama", 256, 2, 4, 2, 256, 512, 4096), 8, 2, 256));
    v.push_back(experts(qwen(shape("qwen3moe-tiny", "qwen3moe", 256, 2, 4, 2, 512, 1024, 4096), false, 64), 8, 2, 256));
    v.push_back(experts(qwen(shape("qwen2moe-tiny", "qwen2moe", 256, 2, 4, 2, 512, 1024, 4096), false), 8, 4, 256, 512));
    // Real models' shapes.
    v.push_back(shape("tinyllama", "llama", 2048, 22, 32, 4, 5632, 32000, 2048));
    v.push_back(shape("llama2-7b", "llama", 4096, 32, 32, 32, 11008, 32000, 4096));
    v.push_back(llama3(shape("llama3-8b", "llama", 4096, 32, 32, 8, 14336, 128256, 8192), 500000.0f, 1e-5f, false));
    v.push_back(llama3(shape("llama3.2-1b", "llama", 2048, 16, 32, 8, 8192, 128256, 131072), 500000.0f, 1e-5f, true));
    SynthShape mistral = shape("mistral-7b", "llama", 4096, 32, 32, 8, 14336, 32768, 32768);
    mistral.rope_base = 1000000.0f;
    v.push_back(mistral);
    v.push_back(qwen(shape("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768), true));
    v.push_back(qwen(shape("qwen2.5-1.5b", "qwen2", 1536, 28, 12, 2, 8960, 151936, 32768), true));
    v.push_back(qwen(shape("qwen2.5-7b", "qwen2", 3584, 28, 28, 4, 18944, 152064, 32768), false));
    v.push_back(qwen(shape("qwen3-0.6b", "qwen3", 1024, 28, 16, 8, 3072, 151936, 40960), true, 128));
    v.push_back(qwen(shape("qwen3-8b", "qwen3", 4096, 36, 32, 8, 12288, 151936, 40960), false, 128));
    v.push_back(llama3(shape("smollm3-3b", "smollm3", 2048, 36, 16, 4, 11008, 128256, 65536), 5000000.0f, 1e-6f, true));
    SynthShape mixtral = experts(shape("mixtral-8x7b", "llama", 4096, 32, 32, 8, 14336, 32000, 32768), 8, 2, 14336);
    mixtral.rope_base = 1000000.0f;
    v.push_back(mixtral);
    v.push_back(experts(qwen(shape("qwen3-30b-a3b", "qwen3moe", 2048, 48, 32, 4, 6144, 151936, 40960), false, 128), 128, 8, 768));
    // A Qwen3-MoE shape for benchmarks on a 24 GiB machine: 5.8B parameters, 1.5B active (64
    // experts of 768, 8 per token, 16 layers; the embedding and head count in full).
    v.push_back(experts(qwen(shape("qwen3moe-5b", "qwen3moe", 2048, 16, 32, 4, 6144, 151936, 40960), false, 128), 64, 8, 768));
    return v;
}

const std::vector<SynthShape>& shapes() {
    static const std::vector<SynthShape> all = make_shapes();
    return all;
}

}  // namespace

std::optional<SynthShape> synth_shape(std::string_view name) {
    for (const SynthShape& s : shapes()) {
        if (s.name == name) return s;
    }
    return std::nullopt;
}

std::vector<std::string> synth_shape_names() {
    std::vector<std::string> names;
    for (const SynthShape& s : shapes()) names.push_back(s.name);
    return names;
}

}  // namespace kiln
