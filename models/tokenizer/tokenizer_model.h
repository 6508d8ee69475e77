#pragma once
// What differs between tokenizer models: how a run of ordinary text becomes ids, and what bytes
// a token stands for. Special-token splitting, BOS/EOS and decoding rules are shared and live in
// Tokenizer. SentencePiece ("llama", spm_model.h) and byte-level BPE ("gpt2", bpe_model.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class TokenizerModel {
public:
    virtual ~TokenizerModel() = default;

    // Appends the ids for `text`, which holds no special tokens. `after_special` is true at the
    // start of the input and right after a special token (SentencePiece adds its space prefix
    // there). Must be safe to call from several threads at once.
    virtual void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const = 0;

    // Appends the bytes of token `id` (a valid id). Control and unknown tokens append their
    // text only when `render_special`; unused tokens append nothing.
    virtual void append_piece(int32_t id, bool render_special, std::string& out) const = 0;
};

}  // namespace kiln
