#pragma once
// A model's hyperparameters and tokenizer facts, read from GGUF metadata and validated before
// anything is sized from them. Keys follow GGUF's convention `<arch>.<name>`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

class GgufFile;

struct ModelHparams {
    std::string arch;          // general.architecture
    uint32_t context_length = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;     // <arch>.attention.key_length, else n_embd / n_head
    uint32_t head_dim_v = 0;   // <arch>.attention.value_length, else head_dim
    uint32_t n_ff = 0;         // the dense FFN's width (0 for a mixture-of-experts model that has none)
    // Mixture of experts (0 experts: a dense model). Each token's FFN is the weighted sum of
    // n_expert_used of n_expert expert FFNs of width n_ff_exp (<arch>.expert_feed_forward_length,
    // else feed_forward_length: Mixtral), plus a shared expert of width n_ff_shexp (Qwen2-MoE).
    uint32_t n_expert = 0;
    uint32_t n_expert_used = 0;
    uint32_t n_ff_exp = 0;
    uint32_t n_ff_shexp = 0;
    uint32_t rope_dims = 0;    // <arch>.rope.dimension_count, else head_dim
    float rope_freq_base = 10000.0f;
    std::string rope_scaling;  // "none", "linear", "yarn", ...
    float rope_freq_scale = 1.0f;  // 1 / <arch>.rope.scaling.factor
    uint32_t rope_orig_context = 0;
    uint32_t sliding_window = 0;  // <arch>.attention.sliding_window; 0 = full attention
    float norm_eps = 0.0f;     // RMSNorm epsilon (or LayerNorm's where the arch uses it)
    bool norm_is_rms = true;
    uint32_t vocab_size = 0;
    bool tied_output = false;  // no output.weight: the output head reuses token_embd
};

struct SpecialToken {
    std::string role;  // "bos", "eos", "unk", "pad", "sep", "eot", ...
    uint32_t id = 0;
    std::string text;  // the token's piece
};

struct TokenizerSummary {
    std::string model;  // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
    std::string pre;    // tokenizer.ggml.pre
    uint32_t n_tokens = 0;
    uint64_t n_merges = 0;
    bool has_scores = false;
    bool has_token_types = false;
    std::optional<bool> add_bos;
    std::optional<bool> add_eos;
    std::vector<SpecialToken> special;
    bool has_chat_template = false;
};

// Largest layer count kiln accepts; per-layer tables elsewhere are sized from n_layer.
constexpr uint32_t kMaxLayers = 1024;
// Largest expert count kiln accepts (the largest open models have 256-384).
constexpr uint32_t kMaxExperts = 1024;

// Throws kiln::Error naming the key when a value is missing, of the wrong type or out of
// range (zero heads, heads that do not divide, eps <= 0, zero context, ...).
ModelHparams read_hparams(const GgufFile& file);

// nullopt when the file has no tokenizer. Throws kiln::Error when special-token ids fall
// outside the vocabulary or the score / token-type arrays do not match the token list.
std::optional<TokenizerSummary> read_tokenizer_summary(const GgufFile& file);

// True for files that carry a vocabulary but no weights (tokenizer test files).
bool is_vocab_only(const GgufFile& file);

}  // namespace kiln
