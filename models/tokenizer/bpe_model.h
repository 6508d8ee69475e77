#pragma once
// Byte-level BPE as llama.cpp runs it for `tokenizer.ggml.model = "gpt2"`: the text is cut into
// words by the pre-tokenizer `tokenizer.ggml.pre` names, each word's UTF-8 bytes are spelled with
// GPT-2's byte characters, then adjacent pieces merge, always the pair with the lowest merge rank
// (ties: leftmost). Each final piece is its token; a piece that is not a token falls back to the
// tokens of its single bytes' texts, as llama.cpp does (and is dropped where there are none).
#include <memory>

#include "models/tokenizer/bpe_merges.h"
#include "models/tokenizer/pre_tokenizer.h"
#include "models/tokenizer/tokenizer_model.h"

namespace kiln {

class GgufFile;
class Vocab;

class BpeModel final : public TokenizerModel {
public:
    // `vocab` must outlive the model. Throws kiln::Error naming the key: an unknown
    // tokenizer.ggml.pre, or tokenizer.ggml.merges missing or malformed (see BpeMerges).
    static std::shared_ptr<const BpeModel> from_gguf(const GgufFile& file, const Vocab& vocab);
    // The same with merges given directly (tests).
    BpeModel(const Vocab& vocab, const PreTokenizer& pre, BpeMerges merges);

    void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
    void append_piece(int32_t id, bool render_special, std::string& out) const override;

    const PreTokenizer& pre_tokenizer() const { return pre_; }
    const BpeMerges& merges() const { return merges_; }

private:
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;
    void emit_symbol(int32_t symbol, std::vector<int32_t>& out) const;

    const Vocab& vocab_;
    const PreTokenizer& pre_;
    BpeMerges merges_;
};

}  // namespace kiln
