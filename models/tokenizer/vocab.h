#pragma once
// A tokenizer vocabulary read from GGUF metadata (`tokenizer.ggml.*`): token texts, scores and
// types, the special ids and the add-BOS / add-EOS / space-prefix flags. Everything is checked
// at load, so encoding and decoding never meet an id or byte token they cannot handle.
// Shared by every tokenizer model (SentencePiece and byte-level BPE).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class GgufFile;
struct TokenizerSummary;

// GGUF's token types (tokenizer.ggml.token_type), which are llama.cpp's.
enum class TokenType : uint8_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

constexpr int32_t kNoToken = -1;

struct SpecialTokenIds {
    int32_t bos = kNoToken;
    int32_t eos = kNoToken;
    int32_t unk = kNoToken;
    int32_t pad = kNoToken;
    int32_t sep = kNoToken;
    int32_t cls = kNoToken;
    int32_t mask = kNoToken;
    int32_t eot = kNoToken;  // end of turn (chat models); found by text when the key is absent
    int32_t eom = kNoToken;  // end of message (tool calls)
};

class Vocab {
public:
    // Throws kiln::Error naming the key at fault: no token list, score / type arrays whose
    // length differs from the token list, token types outside 0..6, byte tokens not spelled
    // `<0xNN>`, special ids outside the vocabulary, add_bos / add_eos without the token.
    // Duplicate token texts are allowed: text lookups find the lowest id.
    static Vocab from_gguf(const GgufFile& file);

    const std::string& file_name() const { return file_name_; }  // for messages
    const std::string& model() const { return model_; }          // tokenizer.ggml.model
    const std::string& pre() const { return pre_; }              // tokenizer.ggml.pre

    int32_t size() const { return static_cast<int32_t>(types_.size()); }
    bool contains(int32_t id) const { return id >= 0 && id < size(); }

    std::string_view text(int32_t id) const {
        return std::string_view(texts_).substr(text_offsets_[id], text_offsets_[id + 1] - text_offsets_[id]);
    }
    float score(int32_t id) const { return scores_[id]; }
    TokenType type(int32_t id) const { return types_[id]; }
    // The byte a Byte-type token stands for (validated at load).
    uint8_t byte_value(int32_t id) const;

    // Id whose text is exactly `text`, or kNoToken.
    int32_t find(std::string_view text) const;
    // Token for raw byte `b` in byte fallback: `<0xNN>`, else the one-byte text, else kNoToken.
    int32_t byte_token(uint8_t b) const { return byte_tokens_[b]; }

    const SpecialTokenIds& special() const { return special_; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    bool add_space_prefix() const { return add_space_prefix_; }
    // Decoding drops the space before "?!.,", around " ' " and before 's 'm 're 've, as
    // llama.cpp's detokenize does for most BPE pre-tokenizers (clean_up_tokenization_spaces).
    bool clean_spaces() const { return clean_spaces_; }
    // End of generation: EOS, EOT, EOM and the chat end markers llama.cpp recognises by text.
    bool is_eog(int32_t id) const;

    // Tokens whose text is matched in raw input before the model's own encoding (control,
    // user-defined and unknown tokens), longest text first, ties by id.
    std::span<const int32_t> matchable_tokens() const { return matchable_; }
    // Whitespace right (left) of a matched special token is dropped; llama.cpp sets these by
    // model name (Phi-3), not from metadata.
    bool strips_right(int32_t id) const { return (flags_[id] & kStripRight) != 0; }
    bool strips_left(int32_t id) const { return (flags_[id] & kStripLeft) != 0; }

private:
    static constexpr uint8_t kStripRight = 1;
    static constexpr uint8_t kStripLeft = 2;

    Vocab() = default;
    void load_tokens(const GgufFile& file);
    void build_lookup();
    void build_byte_fallback();
    void load_special(const GgufFile& file, const TokenizerSummary& summary);
    void mark_end_of_generation();
    void apply_name_rules(const GgufFile& file);

    std::string file_name_;
    std::string model_;
    std::string pre_;
    // All texts back to back: 150k tokens cost one allocation, not 150k small strings.
    std::string texts_;
    std::vector<uint32_t> text_offsets_;  // size() + 1 entries
    std::vector<float> scores_;
    std::vector<TokenType> types_;
    std::vector<uint8_t> flags_;
    std::vector<int32_t> lookup_slots_;  // open addressing over texts_, kNoToken = empty
    std::array<int32_t, 256> byte_tokens_{};
    SpecialTokenIds special_;
    std::vector<int32_t> eog_;  // sorted
    std::vector<int32_t> matchable_;
    bool add_bos_ = false;
    bool add_eos_ = false;
    bool add_space_prefix_ = false;
    bool clean_spaces_ = false;
};

// The bytes of a token that is not a normal text token (byte, user-defined, control, unknown,
// unused), appended to `out`; returns false for a normal token, whose spelling each tokenizer
// model decodes its own way.
bool append_non_text_piece(const Vocab& vocab, int32_t id, bool render_special, std::string& out);

}  // namespace kiln
