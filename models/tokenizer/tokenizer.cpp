#include "models/tokenizer/tokenizer.h"

#include <limits>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/bpe_model.h"
#include "models/tokenizer/special_split.h"
#include "models/tokenizer/spm_model.h"

namespace kiln {

Tokenizer Tokenizer::from_gguf(const GgufFile& file) {
    const std::string model = file.get_string("tokenizer.ggml.model").value_or("");
    // Check the model before the vocabulary so an unsupported one gets the clearer message.
    if (!model.empty() && model != "llama" && model != "gpt2") {
        throw Error(file.name() + ": key 'tokenizer.ggml.model': tokenizer model " + kiln::quoted(model) + " is not supported");
    }
    auto vocab = std::make_shared<const Vocab>(Vocab::from_gguf(file));
    if (vocab->model() == "gpt2") {
        std::shared_ptr<const TokenizerModel> bpe = BpeModel::from_gguf(file, *vocab);
        return Tokenizer(std::move(vocab), std::move(bpe));
    }
    auto spm = std::make_shared<const SpmModel>(*vocab);
    return Tokenizer(std::move(vocab), std::move(spm));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<int32_t> out;
    encode(text, add_special, parse_special, out);
    return out;
}

void Tokenizer::encode(std::string_view text, bool add_special, bool parse_special, std::vector<int32_t>& out) const {
    if (text.size() > std::numeric_limits<uint32_t>::max() / 4) throw Error("tokenizer: input text is too long");
    thread_local std::vector<TextFragment> fragments;
    thread_local std::vector<TextFragment> scratch;
    split_special_tokens(*vocab_, text, parse_special, fragments, scratch);

    out.clear();
    if (add_special && vocab_->add_bos()) out.push_back(vocab_->special().bos);
    bool after_special = true;  // the input's start counts as following a special token
    for (const TextFragment& f : fragments) {
        if (f.is_token()) {
            out.push_back(f.token);
            after_special = true;
        } else {
            model_->encode_text(text.substr(f.begin, f.end - f.begin), after_special, out);
            after_special = false;
        }
    }
    if (add_special && vocab_->add_eos()) out.push_back(vocab_->special().eos);
}

void Tokenizer::append_piece(int32_t id, bool render_special, std::string& out) const {
    if (!vocab_->contains(id)) {
        throw Error(vocab_->file_name() + ": token id " + std::to_string(id) + " is outside the vocabulary of " +
                    std::to_string(vocab_->size()) + " tokens");
    }
    model_->append_piece(id, render_special, out);
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
    std::string piece;
    append_piece(id, render_special, piece);
    return piece;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
    const SpecialTokenIds& special = vocab_->special();
    bool strip_space = options.strip_leading_space && vocab_->add_space_prefix();
    if (options.remove_special && vocab_->add_bos() && !ids.empty() && ids.front() == special.bos) {
        strip_space = false;  // llama.cpp: a sequence that began with BOS keeps its first space
        ids = ids.subspan(1);
    }
    if (options.remove_special && vocab_->add_eos() && !ids.empty() && ids.back() == special.eos) {
        ids = ids.first(ids.size() - 1);
    }
    std::string text;
    for (size_t i = 0; i < ids.size(); ++i) {
        const size_t start = text.size();
        append_piece(ids[i], options.render_special, text);
        // Only the very first token's piece is stripped, even when that piece is empty.
        if (i == 0 && strip_space && text.size() > start && text[start] == ' ') text.erase(start, 1);
    }
    if (options.clean_spaces && vocab_->clean_spaces()) clean_spaces(text);
    return text;
}

// llama.cpp's three passes, in its order: " ?" " !" " ." " ," lose the space; a lone " ' "
// loses both spaces; " 's" " 'm" " 're" " 've" lose the space (" 't" " 'd" " 'll" keep it).
void Tokenizer::clean_spaces(std::string& text) {
    auto pass = [&text](auto&& keep_space) {
        std::string out;
        out.reserve(text.size());
        for (size_t i = 0; i < text.size(); ++i) {
            if (i + 1 < text.size() && text[i] == ' ' && !keep_space(i + 1)) continue;
            out += text[i];
        }
        text.swap(out);
    };
    pass([&](size_t i) {
        const char x = text[i];
        return !(x == '?' || x == '!' || x == '.' || x == ',');
    });
    // " ' ": drop the space before the apostrophe and the one after it.
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (i + 2 < text.size() && text[i] == ' ' && text[i + 1] == '\'' && text[i + 2] == ' ') {
            out += '\'';
            i += 2;
            continue;
        }
        out += text[i];
    }
    text.swap(out);
    pass([&](size_t i) {
        if (text[i] != '\'' || i + 1 >= text.size()) return true;
        const char a = text[i + 1];
        if (a == 's' || a == 'm') return false;
        if (a == 't' || a == 'd' || i + 2 >= text.size()) return true;
        const char b = text[i + 2];
        return !((a == 'r' && b == 'e') || (a == 'v' && b == 'e'));
    });
}

}  // namespace kiln
