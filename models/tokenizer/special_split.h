#pragma once
// Splits input text around the special tokens written in it, before any model-specific encoding:
// "<s>Hi" becomes [token <s>] [text "Hi"]. Same order and rules as llama.cpp's partition: the
// vocabulary's matchable tokens longest first, each splitting every text run left so far.
// Control and unknown tokens are matched only when parsing specials; user-defined tokens always.
#include <cstdint>
#include <string_view>
#include <vector>

namespace kiln {

class Vocab;

struct TextFragment {
    int32_t token = -1;  // a special token's id, or -1 for a run of ordinary text
    uint32_t begin = 0;  // the text run [begin, end) of the input
    uint32_t end = 0;
    bool is_token() const { return token >= 0; }
};

// Replaces `out` with the fragments of `text` (empty text: no fragments). `scratch` is reused
// between calls to avoid reallocating.
void split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special,
                          std::vector<TextFragment>& out, std::vector<TextFragment>& scratch);

}  // namespace kiln
