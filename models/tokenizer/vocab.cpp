#include "models/tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/gguf_reader.h"
#include "models/hparams.h"
#include "models/tokenizer/pre_tokenizer.h"

namespace kiln {
namespace {

constexpr const char* kTokensKey = "tokenizer.ggml.tokens";
constexpr const char* kScoresKey = "tokenizer.ggml.scores";
constexpr const char* kTypesKey = "tokenizer.ggml.token_type";

// Converters often leave out the EOT / EOG ids, so llama.cpp recognises these texts, and forces
// the tokens to control type so plain text never produces them. The lists follow llama.cpp
// v0.5.0 (the goldens' version); the first EOT text present stands for EOT.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "<end_of_utterance>",
};
constexpr std::string_view kEndOfMessageText = "<|eom_id|>";
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~[",
};

[[noreturn]] void fail(const GgufFile& file, std::string_view key, const std::string& what) {
    throw Error(file.name() + ": key '" + std::string(key) + "': " + what);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The byte in a `<0xNN>` text, or -1.
int parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
    const int hi = hex_digit(text[3]);
    const int lo = hex_digit(text[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string byte_token_text(uint8_t b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string{'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
}

size_t lookup_hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

Vocab Vocab::from_gguf(const GgufFile& file) {
    // Present-and-parallel checks and special-id range checks live in read_tokenizer_summary.
    std::optional<TokenizerSummary> summary = read_tokenizer_summary(file);
    if (!summary) fail(file, kTokensKey, "missing (the file has no tokenizer)");
    if (summary->model.empty()) fail(file, "tokenizer.ggml.model", "missing");

    Vocab v;
    v.file_name_ = file.name();
    v.model_ = summary->model;
    v.pre_ = summary->pre;
    v.load_tokens(file);
    v.build_lookup();
    v.build_byte_fallback();
    v.load_special(file, *summary);
    v.mark_end_of_generation();

    for (int32_t id = 0; id < v.size(); ++id) {
        const TokenType t = v.types_[id];
        const bool special = t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
        if (special && !v.text(id).empty()) v.matchable_.push_back(id);
    }
    std::stable_sort(v.matchable_.begin(), v.matchable_.end(),
                     [&](int32_t a, int32_t b) { return v.text(a).size() > v.text(b).size(); });

    v.flags_.assign(v.types_.size(), 0);
    v.apply_name_rules(file);
    return v;
}

void Vocab::load_tokens(const GgufFile& file) {
    const GgufArray* tokens = file.get_array(kTokensKey, GgufType::STRING);
    const size_t n = tokens->size();
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) total += tokens->string(i).size();
    if (total > std::numeric_limits<uint32_t>::max()) fail(file, kTokensKey, "token texts exceed 4 GiB");
    texts_.reserve(total);
    text_offsets_.reserve(n + 1);
    text_offsets_.push_back(0);
    for (size_t i = 0; i < n; ++i) {
        texts_ += tokens->string(i);
        text_offsets_.push_back(static_cast<uint32_t>(texts_.size()));
    }

    scores_.assign(n, 0.0f);
    if (const GgufArray* scores = file.get_array(kScoresKey, GgufType::F32)) {
        for (size_t i = 0; i < n; ++i) {
            const float s = std::get<float>((*scores)[i]);
            // NaN would break the merge queue's ordering.
            if (std::isnan(s)) fail(file, kScoresKey, "token " + std::to_string(i) + " has a NaN score");
            scores_[i] = s;
        }
    }

    types_.assign(n, TokenType::Normal);
    if (const GgufArray* types = file.get_array(kTypesKey, GgufType::I32)) {
        for (size_t i = 0; i < n; ++i) {
            const int32_t t = std::get<int32_t>((*types)[i]);
            if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
                fail(file, kTypesKey, "token " + std::to_string(i) + " has type " + std::to_string(t) + ", expected 0..6");
            }
            types_[i] = static_cast<TokenType>(t);
        }
    }
    for (int32_t id = 0; id < size(); ++id) {
        if (types_[id] == TokenType::Byte && parse_byte_token(text(id)) < 0) {
            fail(file, kTokensKey,
                 "token " + std::to_string(id) + " " + quoted(text(id)) + " has byte type but is not spelled <0xNN>");
        }
    }
}

void Vocab::build_byte_fallback() {
    std::array<int32_t, 256> typed;
    typed.fill(kNoToken);
    for (int32_t id = size() - 1; id >= 0; --id) {
        if (types_[id] == TokenType::Byte) typed[byte_value(id)] = id;  // the lowest id wins
    }
    // Look the text up as llama.cpp does (so a `<0xNN>` token of any type counts), then accept
    // a lower-case spelling of a byte-type token, then the byte as a one-character text.
    for (int b = 0; b < 256; ++b) {
        int32_t id = find(byte_token_text(static_cast<uint8_t>(b)));
        if (id == kNoToken) id = typed[b];
        if (id == kNoToken) id = find(std::string(1, static_cast<char>(b)));
        byte_tokens_[b] = id;
    }
}

void Vocab::load_special(const GgufFile& file, const TokenizerSummary& summary) {
    const bool spm = model_ == "llama";
    const bool bpe = model_ == "gpt2";
    // Without keys, SentencePiece files use llama's ids (as llama.cpp assumes).
    if (spm) {
        if (size() > 1) special_.bos = 1;
        if (size() > 2) special_.eos = 2;
        if (size() > 0) special_.unk = 0;
    }
    // llama.cpp's BPE default is GPT-NeoX's <|endoftext|> at 11 (keys override it).
    if (bpe && size() > 11) special_.bos = special_.eos = 11;
    // The pre-tokenizer decides BPE's add-BOS default (Llama 3 adds one) and space cleaning.
    const PreTokenizer* pre = bpe ? find_pre_tokenizer(pre_) : nullptr;
    clean_spaces_ = pre && pre->clean_spaces;
    for (const SpecialToken& s : summary.special) {
        const auto id = static_cast<int32_t>(s.id);
        if (s.role == "bos") special_.bos = id;
        else if (s.role == "eos") special_.eos = id;
        else if (s.role == "unk") special_.unk = id;
        else if (s.role == "pad") special_.pad = id;
        else if (s.role == "sep") special_.sep = id;
        else if (s.role == "cls") special_.cls = id;
        else if (s.role == "mask") special_.mask = id;
        else if (s.role == "eot") special_.eot = id;
        else if (s.role == "eom") special_.eom = id;
    }

    add_bos_ = summary.add_bos.value_or(spm || (pre && pre->add_bos));
    add_eos_ = summary.add_eos.value_or(false);
    add_space_prefix_ = file.get_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
    if (add_bos_ && special_.bos == kNoToken) {
        fail(file, "tokenizer.ggml.add_bos_token", "is set but the vocabulary has no BOS token");
    }
    if (add_eos_ && special_.eos == kNoToken) {
        fail(file, "tokenizer.ggml.add_eos_token", "is set but the vocabulary has no EOS token");
    }
}

void Vocab::mark_end_of_generation() {
    for (std::string_view t : kEndOfTurnTexts) {
        const int32_t id = find(t);
        if (id == kNoToken || special_.eot != kNoToken) continue;
        special_.eot = id;
        types_[id] = TokenType::Control;
    }
    if (const int32_t id = find(kEndOfMessageText); id != kNoToken && special_.eom == kNoToken) {
        special_.eom = id;
        types_[id] = TokenType::Control;
    }
    for (std::string_view t : kEndOfGenerationTexts) {
        if (const int32_t id = find(t); id != kNoToken) {
            eog_.push_back(id);
            types_[id] = TokenType::Control;
        }
    }
    for (int32_t id : {special_.eos, special_.eot, special_.eom}) {
        if (id != kNoToken) eog_.push_back(id);
    }
    std::sort(eog_.begin(), eog_.end());
    eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());
}

void Vocab::build_lookup() {
    size_t capacity = 16;
    while (capacity < 2 * types_.size()) capacity *= 2;
    lookup_slots_.assign(capacity, kNoToken);
    const size_t mask = capacity - 1;
    for (int32_t id = 0; id < size(); ++id) {
        const std::string_view t = text(id);
        if (t.empty()) continue;  // nothing can match an empty text
        for (size_t slot = lookup_hash(t) & mask;; slot = (slot + 1) & mask) {
            if (lookup_slots_[slot] == kNoToken) {
                lookup_slots_[slot] = id;
                break;
            }
            if (text(lookup_slots_[slot]) == t) break;  // duplicate text: the lower id keeps it
        }
    }
}

int32_t Vocab::find(std::string_view t) const {
    const size_t mask = lookup_slots_.size() - 1;
    for (size_t slot = lookup_hash(t) & mask;; slot = (slot + 1) & mask) {
        const int32_t id = lookup_slots_[slot];
        if (id == kNoToken || text(id) == t) return id;
    }
}

uint8_t Vocab::byte_value(int32_t id) const {
    return static_cast<uint8_t>(parse_byte_token(text(id)));
}

bool Vocab::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

void Vocab::apply_name_rules(const GgufFile& file) {
    std::string name = file.get_string("general.name").value_or("");
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.find("phi-3") == std::string::npos && name.find("phi3") == std::string::npos) return;
    // Phi-3's chat markers swallow the whitespace after them (llama.cpp keys this on the name).
    for (int32_t id : matchable_) flags_[id] |= kStripRight;
    if (int32_t id = find("</s>"); id != kNoToken) flags_[id] |= kStripRight;
    for (std::string_view keep : {"<unk>", "<s>", "<|endoftext|>"}) {
        if (int32_t id = find(keep); id != kNoToken) flags_[id] &= static_cast<uint8_t>(~kStripRight);
    }
}

bool append_non_text_piece(const Vocab& vocab, int32_t id, bool render_special, std::string& out) {
    switch (vocab.type(id)) {
        case TokenType::Normal:
            return false;
        case TokenType::Byte:  // `<0xNN>`
            out += static_cast<char>(vocab.byte_value(id));
            return true;
        case TokenType::UserDefined:
            out += vocab.text(id);
            return true;
        case TokenType::Control:
        case TokenType::Unknown:
            if (render_special) out += vocab.text(id);
            return true;
        case TokenType::Unused:
        case TokenType::Undefined:
            return true;
    }
    return true;
}

}  // namespace kiln
