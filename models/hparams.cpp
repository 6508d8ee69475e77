#include "models/hparams.h"

#include <cmath>
#include <limits>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/gguf_reader.h"

namespace kiln {
namespace {

class KeyReader {
public:
    KeyReader(const GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

    std::string key(const std::string& name) const { return arch_ + "." + name; }

    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw Error(f_.name() + ": key " + kiln::quoted(key) + ": " + what);
    }

    // A u32-sized count. Some files store per-layer values as arrays; all entries must agree
    // for the architectures kiln runs.
    std::optional<uint32_t> count(const std::string& name) const {
        const std::string k = key(name);
        const GgufValue* v = f_.find(k);
        if (!v) return std::nullopt;
        std::optional<uint64_t> u;
        if (const GgufArray* a = v->array()) {
            if (a->empty()) fail(k, "empty array");
            for (size_t i = 0; i < a->size(); ++i) {
                const GgufValue item = (*a)[i];
                auto x = item.to_uint();
                if (!x) fail(k, "expected non-negative integers, found " + item.describe());
                if (u && *u != *x) fail(k, "per-layer values differ; kiln needs one value for every layer");
                u = x;
            }
        } else {
            u = f_.get_uint(k);
        }
        if (*u > std::numeric_limits<uint32_t>::max()) fail(k, std::to_string(*u) + " is out of range");
        return static_cast<uint32_t>(*u);
    }

    uint32_t required_count(const std::string& name) const {
        auto v = count(name);
        if (!v) fail(key(name), "missing");
        if (*v == 0) fail(key(name), "must be greater than zero");
        return *v;
    }

    std::optional<double> number(const std::string& name) const {
        auto v = f_.get_float(key(name));
        if (v && !std::isfinite(*v)) fail(key(name), "is not finite");
        return v;
    }

private:
    const GgufFile& f_;
    std::string arch_;
};

}  // namespace

bool is_vocab_only(const GgufFile& file) {
    return file.tensors().empty() && file.find("tokenizer.ggml.tokens") != nullptr;
}

ModelHparams read_hparams(const GgufFile& file) {
    ModelHparams h;
    auto arch = file.get_string("general.architecture");
    if (!arch || arch->empty()) throw Error(file.name() + ": key 'general.architecture': missing");
    // Every other key's name is built from it: one with control characters would break messages.
    if (escape_control(*arch) != *arch) {
        throw Error(file.name() + ": key 'general.architecture': " + kiln::quoted(*arch) + " is not an architecture name");
    }
    h.arch = *arch;
    KeyReader k(file, h.arch);

    h.n_layer = k.required_count("block_count");
    if (h.n_layer > kMaxLayers) {
        k.fail(k.key("block_count"), std::to_string(h.n_layer) + " layers exceed kiln's limit of " +
                                         std::to_string(kMaxLayers));
    }
    h.n_embd = k.required_count("embedding_length");
    h.n_head = k.required_count("attention.head_count");
    h.n_head_kv = k.count("attention.head_count_kv").value_or(h.n_head);
    if (h.n_head_kv == 0 || h.n_head % h.n_head_kv != 0) {
        k.fail(k.key("attention.head_count_kv"), std::to_string(h.n_head_kv) + " does not divide the " +
                                                     std::to_string(h.n_head) + " query heads");
    }
    if (auto kl = k.count("attention.key_length")) {
        h.head_dim = *kl;
    } else {
        if (h.n_embd % h.n_head != 0) {
            k.fail(k.key("attention.head_count"), std::to_string(h.n_head) + " heads do not divide the embedding of " +
                                                      std::to_string(h.n_embd));
        }
        h.head_dim = h.n_embd / h.n_head;
    }
    if (h.head_dim == 0 || h.head_dim > 1024) {
        k.fail(k.key("attention.key_length"), "head size " + std::to_string(h.head_dim) + " is out of range (1..1024)");
    }
    h.head_dim_v = k.count("attention.value_length").value_or(h.head_dim);
    if (h.head_dim_v == 0 || h.head_dim_v > 1024) {
        k.fail(k.key("attention.value_length"), std::to_string(h.head_dim_v) + " is out of range (1..1024)");
    }
    h.n_expert = k.count("expert_count").value_or(0);
    if (h.n_expert > kMaxExperts) {
        k.fail(k.key("expert_count"), std::to_string(h.n_expert) + " experts exceed kiln's limit of " + std::to_string(kMaxExperts));
    }
    // A mixture of experts may have no dense FFN width (its experts have their own).
    h.n_ff = h.n_expert > 0 ? k.count("feed_forward_length").value_or(0) : k.required_count("feed_forward_length");
    if (h.n_expert > 0) {
        h.n_expert_used = k.required_count("expert_used_count");
        if (h.n_expert_used > h.n_expert) {
            k.fail(k.key("expert_used_count"), std::to_string(h.n_expert_used) + " is more than the " +
                                                   std::to_string(h.n_expert) + " experts");
        }
        h.n_ff_exp = k.count("expert_feed_forward_length").value_or(h.n_ff);
        if (h.n_ff_exp == 0) k.fail(k.key("expert_feed_forward_length"), "missing (and no feed_forward_length)");
        h.n_ff_shexp = k.count("expert_shared_feed_forward_length").value_or(0);
    }
    h.context_length = k.required_count("context_length");

    h.rope_dims = k.count("rope.dimension_count").value_or(h.head_dim);
    if (h.rope_dims > h.head_dim || h.rope_dims % 2 != 0) {
        k.fail(k.key("rope.dimension_count"), std::to_string(h.rope_dims) + " must be even and at most the head size " +
                                                  std::to_string(h.head_dim));
    }
    h.rope_freq_base = static_cast<float>(k.number("rope.freq_base").value_or(10000.0));
    if (!(h.rope_freq_base > 0)) k.fail(k.key("rope.freq_base"), "must be positive");

    h.rope_scaling = file.get_string(k.key("rope.scaling.type")).value_or("none");
    double factor = k.number("rope.scaling.factor").value_or(0.0);
    if (factor == 0.0) factor = k.number("rope.scale_linear").value_or(1.0);  // older files
    if (!(factor > 0)) k.fail(k.key("rope.scaling.factor"), "must be positive");
    if (factor != 1.0 && h.rope_scaling == "none") h.rope_scaling = "linear";
    h.rope_freq_scale = static_cast<float>(1.0 / factor);
    h.rope_orig_context = k.count("rope.scaling.original_context_length").value_or(h.context_length);
    if (h.rope_scaling != "none" && h.rope_scaling != "linear") {
        // Computing YaRN or LongRoPE positions as plain RoPE would be silently wrong.
        k.fail(k.key("rope.scaling.type"), kiln::quoted(h.rope_scaling) + " is not supported (supported: none, linear; "
                                           "Llama 3 scaling comes as rope_freqs.weight)");
    }
    h.sliding_window = k.count("attention.sliding_window").value_or(0);

    if (auto eps = k.number("attention.layer_norm_rms_epsilon")) {
        h.norm_eps = static_cast<float>(*eps);
        if (!(h.norm_eps > 0 && h.norm_eps < 1)) {
            k.fail(k.key("attention.layer_norm_rms_epsilon"), "must be in (0, 1)");
        }
    } else if (auto eps2 = k.number("attention.layer_norm_epsilon")) {
        h.norm_is_rms = false;
        h.norm_eps = static_cast<float>(*eps2);
        if (!(h.norm_eps > 0 && h.norm_eps < 1)) k.fail(k.key("attention.layer_norm_epsilon"), "must be in (0, 1)");
    } else {
        k.fail(k.key("attention.layer_norm_rms_epsilon"), "missing");
    }

    if (const GgufValue* tokens = file.find("tokenizer.ggml.tokens"); tokens && tokens->array()) {
        h.vocab_size = static_cast<uint32_t>(std::min<size_t>(tokens->array()->size(), UINT32_MAX));
    } else if (auto vs = k.count("vocab_size")) {
        h.vocab_size = *vs;
    } else if (const GgufTensorInfo* emb = file.find_tensor("token_embd.weight"); emb && emb->dims.size() >= 2) {
        h.vocab_size = static_cast<uint32_t>(std::min<uint64_t>(emb->dims[1], UINT32_MAX));
    }
    h.tied_output = file.find_tensor("output.weight") == nullptr;
    return h;
}

std::optional<TokenizerSummary> read_tokenizer_summary(const GgufFile& file) {
    auto model = file.get_string("tokenizer.ggml.model");
    const GgufArray* tokens = file.get_array("tokenizer.ggml.tokens", GgufType::STRING);
    if (!model && !tokens) return std::nullopt;
    TokenizerSummary t;
    t.model = model.value_or("");
    t.pre = file.get_string("tokenizer.ggml.pre").value_or("");
    if (!tokens) throw Error(file.name() + ": key 'tokenizer.ggml.tokens': missing");
    if (tokens->size() > std::numeric_limits<int32_t>::max()) {
        throw Error(file.name() + ": key 'tokenizer.ggml.tokens': too many tokens");
    }
    t.n_tokens = static_cast<uint32_t>(tokens->size());

    auto check_parallel = [&](const char* key, GgufType elem, bool* present) {
        if (const GgufArray* a = file.get_array(key, elem)) {
            *present = true;
            if (a->size() != t.n_tokens) {
                throw Error(file.name() + ": key '" + key + "': " + std::to_string(a->size()) +
                            " entries for " + std::to_string(t.n_tokens) + " tokens");
            }
        }
    };
    check_parallel("tokenizer.ggml.scores", GgufType::F32, &t.has_scores);
    check_parallel("tokenizer.ggml.token_type", GgufType::I32, &t.has_token_types);
    if (const GgufValue* merges = file.find("tokenizer.ggml.merges")) {
        if (!merges->array()) throw Error(file.name() + ": key 'tokenizer.ggml.merges': expected an array");
        t.n_merges = merges->array()->size();
    }
    t.add_bos = file.get_bool("tokenizer.ggml.add_bos_token");
    t.add_eos = file.get_bool("tokenizer.ggml.add_eos_token");
    t.has_chat_template = file.find("tokenizer.chat_template") != nullptr;

    // GGUF's key names, including its historical spelling "seperator".
    static const std::pair<const char*, const char*> roles[] = {
        {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"},
        {"pad", "padding_token_id"}, {"sep", "seperator_token_id"}, {"cls", "cls_token_id"},
        {"mask", "mask_token_id"}, {"eot", "eot_token_id"}, {"eom", "eom_token_id"}};
    for (const auto& [role, name] : roles) {
        const std::string key = std::string("tokenizer.ggml.") + name;
        const GgufValue* v = file.find(key);
        if (!v) continue;
        auto id = v->to_int();
        if (!id) throw Error(file.name() + ": key '" + key + "': expected an integer, found " + v->describe());
        if (*id == -1 || *id == 0xFFFFFFFF) continue;  // converters write -1 (or its u32 form) for "none"
        if (*id < 0 || *id >= static_cast<int64_t>(t.n_tokens)) {
            throw Error(file.name() + ": key '" + key + "': id " + std::to_string(*id) + " is outside the vocabulary of " +
                        std::to_string(t.n_tokens) + " tokens");
        }
        const auto id32 = static_cast<uint32_t>(*id);
        t.special.push_back({role, id32, std::string(tokens->string(id32))});
    }
    return t;
}

}  // namespace kiln
