#pragma once
// Byte-level BPE pre-tokenization: text (as code points) is cut into words before merging, so no
// token spans a word boundary. Which cuts a model uses is named by `tokenizer.ggml.pre`; each
// name stands for llama.cpp's list of regexes, applied one after another, each splitting every
// piece the previous ones left. kiln implements each regex as a hand-written scanner
// (pre_tokenizer_rules.cpp) with llama.cpp's semantics, Unicode classes from unicode_data.h.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

// One regex of a pre-tokenizer; the comments give the pattern it implements.
enum class SplitRule : uint8_t {
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Gpt2,
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
    // The same with \p{N} (one digit per word) instead of \p{N}{1,3}.
    Qwen2,
    NewlineChar,       // [\r\n]
    Digit,             // \p{N}
    Digits,            // \p{N}+
    ThreeAsciiDigits,  // [0-9][0-9][0-9]
    PunctRun,          // [\p{P}\$\+<=>\^~\|]+
    PunctRunBacktick,  // [\p{P}\$\+<=>\^~\|`]+
    SpaceLetters,      // \s?\p{L}+
    SpacePunct,        // \s?\p{P}+
    CjkRun,            // [一-龥ࠀ-一가-퟿]+
    DeepseekLetters,   // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (the cased letters DeepSeek's tokenizer.json lists)
    DeepseekPunct,     // \s?[!-/:-~！-／：-～‘-‟　-。]+
    TrailingSpace,     // \s+$
};

struct PreTokenizer {
    std::string_view family;          // for messages: "gpt2", "llama3", ...
    std::span<const SplitRule> rules;
    bool ignore_merges = false;  // a word that is a whole token is taken as is (Llama 3)
    bool add_bos = false;        // default of tokenizer.ggml.add_bos_token
    bool clean_spaces = false;   // decode drops spaces before punctuation (llama.cpp's clean_spaces)
};

// The pre-tokenizer `tokenizer.ggml.pre` names ("" means llama.cpp's "default"), or nullptr for
// names kiln does not implement.
const PreTokenizer* find_pre_tokenizer(std::string_view name);

// Replaces `ends` with the end offset (in code points) of each word of `cps`, in order; empty
// input gives no words.
void pre_tokenize(const PreTokenizer& pre, std::span<const uint32_t> cps, std::vector<uint32_t>& ends);

// One rule over the piece [begin, end) of `cps` (whose flags are `flags`); appends the end
// offset of each resulting piece to `ends`. Exposed for tests.
void apply_split_rule(SplitRule rule, std::span<const uint32_t> cps, std::span<const uint8_t> flags, uint32_t begin,
                      uint32_t end, std::vector<uint32_t>& ends);

}  // namespace kiln
