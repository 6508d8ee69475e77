#pragma once
// SentencePiece-style tokenization as llama.cpp runs it for `tokenizer.ggml.model = "llama"`:
// spaces become U+2581 ("▁"), a "▁" is prefixed at the start and after special tokens (when the
// vocab says add_space_prefix), then adjacent pieces are merged, always taking the pair whose
// merged text is a vocab token with the highest score (ties: leftmost). Pieces left that are not
// tokens fall back to `<0xNN>` byte tokens, or to the unknown token where there are none.
#include "models/tokenizer/tokenizer_model.h"

namespace kiln {

class Vocab;

class SpmModel final : public TokenizerModel {
public:
    // `vocab` must outlive the model.
    explicit SpmModel(const Vocab& vocab) : vocab_(vocab) {}

    void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
    void append_piece(int32_t id, bool render_special, std::string& out) const override;

private:
    const Vocab& vocab_;
};

}  // namespace kiln
