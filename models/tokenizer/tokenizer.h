#pragma once
// Text <-> token ids for a GGUF model, matching llama.cpp's llama_tokenize / llama_detokenize.
//
//   Tokenizer tok = Tokenizer::from_gguf(file);
//   std::vector<int32_t> ids = tok.encode(prompt, /*add_special=*/true, /*parse_special=*/false);
//   std::string text = tok.decode(ids);                 // whole sequences
//   TokenTextStream stream(tok, {.strip_leading_space = false});  // generation: see token_stream.h
//
// Copies share the (immutable) vocabulary; all methods are const and thread-safe.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/tokenizer/tokenizer_model.h"
#include "models/tokenizer/vocab.h"

namespace kiln {

class GgufFile;

struct DecodeOptions {
    // Control and unknown tokens as their text ("<s>") instead of nothing.
    bool render_special = false;
    // Drop a leading BOS and a trailing EOS where the vocab adds them. As in llama.cpp, a
    // dropped BOS also keeps the first token's leading space.
    bool remove_special = false;
    // Drop one leading space from the first token's piece when the vocab adds a space prefix
    // (SentencePiece), so decode(encode(text)) == text. Turn off when decoding a continuation.
    bool strip_leading_space = true;
    // Drop spaces before punctuation and in contractions ("Hello ?" -> "Hello?") where the vocab
    // asks for it (most byte-level BPE pre-tokenizers), as llama.cpp's detokenize does. Only
    // whole-sequence decode does this; TokenTextStream never does (llama.cpp's pieces do not).
    bool clean_spaces = true;
};

class Tokenizer {
public:
    // Dispatches on tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE).
    // Throws kiln::Error for other models, for vocabularies Vocab::from_gguf rejects and for BPE
    // merges or pre-tokenizers BpeModel rejects.
    static Tokenizer from_gguf(const GgufFile& file);

    const Vocab& vocab() const { return *vocab_; }

    // `add_special`: BOS / EOS as the vocab's add_bos / add_eos flags say. `parse_special`:
    // control-token texts in `text` ("<s>") become those tokens; otherwise they are plain text.
    // User-defined tokens are always matched, as in llama.cpp.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
    // The same, replacing the contents of `out` (reuses its capacity).
    void encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const;

    // The bytes one token stands for: SentencePiece "▁" -> space, byte-level BPE "Ġ" -> space,
    // `<0xNN>` -> that byte, control
    // tokens -> empty unless `render_special`. May be part of a UTF-8 character. Throws
    // kiln::Error for an id outside the vocabulary.
    std::string token_to_piece(int32_t id, bool render_special = false) const;
    void append_piece(int32_t id, bool render_special, std::string& out) const;

    // All pieces joined, as llama.cpp's detokenize (bytes as they are, even split characters).
    std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

    // llama.cpp's clean-up of decoded text (see DecodeOptions::clean_spaces).
    static void clean_spaces(std::string& text);

private:
    Tokenizer(std::shared_ptr<const Vocab> vocab, std::shared_ptr<const TokenizerModel> model)
        : vocab_(std::move(vocab)), model_(std::move(model)) {}

    std::shared_ptr<const Vocab> vocab_;
    std::shared_ptr<const TokenizerModel> model_;  // refers to *vocab_
};

}  // namespace kiln
