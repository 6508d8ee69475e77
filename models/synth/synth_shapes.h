#pragma once
// The shapes `kiln synth --like` knows: real models' hyperparameters (from their published
// configs) and small ones for tests, each with the architecture whose tensors it needs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class SynthVocab { SentencePiece, ByteLevelBpe };

struct SynthShape {
    std::string name;
    std::string arch;  // GGUF general.architecture: llama (also Mistral's and Mixtral's), qwen2, qwen3,
                       // smollm3, qwen2moe, qwen3moe
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, context;
    uint32_t head_dim = 0;  // 0: n_embd / n_head
    float rope_base = 10000.0f;
    float norm_eps = 1e-5f;
    bool tied_output = false;
    SynthVocab vocab = SynthVocab::SentencePiece;  // the built-in tokenizer when no --vocab-from
    std::string bpe_pre = "default";               // tokenizer.ggml.pre for the built-in BPE
    // Mixture of experts (0 experts: dense): n_expert FFNs of width n_ff_exp per layer, of which
    // a token uses n_expert_used, plus a shared expert of width n_ff_shexp (qwen2moe).
    uint32_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0, n_ff_shexp = 0;

    uint32_t head_size() const { return head_dim ? head_dim : n_embd / n_head; }
};

std::optional<SynthShape> synth_shape(std::string_view name);
std::vector<std::string> synth_shape_names();

}  // namespace kiln
