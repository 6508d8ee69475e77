#include "models/tokenizer/pre_tokenizer.h"

#include <array>

#include "models/tokenizer/unicode_data.h"

namespace kiln {
namespace {

using R = SplitRule;

// Rule lists per family, as llama.cpp's llm_tokenizer_bpe lists its regexes.
constexpr std::array kGpt2Rules = {R::Gpt2};
constexpr std::array kDefaultRules = {R::PunctRun, R::Gpt2, R::Digits, R::ThreeAsciiDigits};
constexpr std::array kLlama3Rules = {R::Llama3};
constexpr std::array kQwen2Rules = {R::Qwen2};
constexpr std::array kFalconRules = {R::PunctRunBacktick, R::Gpt2, R::ThreeAsciiDigits};
constexpr std::array kStarcoderRules = {R::Digit, R::Gpt2};
constexpr std::array kDeepseekLlmRules = {R::NewlineChar,   R::DeepseekLetters, R::DeepseekPunct,
                                          R::TrailingSpace, R::CjkRun,          R::Digits};
constexpr std::array kDeepseekCoderRules = {R::NewlineChar, R::SpaceLetters, R::SpacePunct, R::CjkRun, R::Digit};

struct Named {
    std::string_view name;
    PreTokenizer pre;
};

// The names llama.cpp maps to these families, with the flags it sets for each name. BPE
// clean_spaces defaults to on; names that turn it off say so.
const Named kPreTokenizers[] = {
    {"default", {"default", kDefaultRules, false, false, true}},
    {"gpt-2", {"gpt2", kGpt2Rules, false, false, true}},
    {"phi-2", {"gpt2", kGpt2Rules, false, false, true}},
    {"mpt", {"gpt2", kGpt2Rules, false, false, true}},
    {"olmo", {"gpt2", kGpt2Rules, false, false, true}},
    {"jais", {"gpt2", kGpt2Rules, false, false, true}},
    {"llama3", {"llama3", kLlama3Rules, true, true, true}},
    {"llama-v3", {"llama3", kLlama3Rules, true, true, true}},
    {"llama-bpe", {"llama3", kLlama3Rules, true, true, true}},
    {"falcon3", {"llama3", kLlama3Rules, true, true, true}},
    {"dbrx", {"llama3", kLlama3Rules, false, false, true}},
    {"smaug-bpe", {"llama3", kLlama3Rules, false, false, true}},
    {"qwen2", {"qwen2", kQwen2Rules, false, false, false}},
    {"deepseek-r1-qwen", {"qwen2", kQwen2Rules, false, false, false}},
    {"stablelm2", {"qwen2", kQwen2Rules, false, false, true}},
    {"megrez", {"qwen2", kQwen2Rules, false, false, true}},
    {"deepseek-llm", {"deepseek-llm", kDeepseekLlmRules, false, false, false}},
    {"deepseek-coder", {"deepseek-coder", kDeepseekCoderRules, false, false, false}},
    {"falcon", {"falcon", kFalconRules, false, false, true}},
    {"starcoder", {"starcoder", kStarcoderRules, false, false, true}},
    {"refact", {"starcoder", kStarcoderRules, false, false, true}},
    {"codeshell", {"starcoder", kStarcoderRules, false, false, true}},
    {"command-r", {"starcoder", kStarcoderRules, false, false, false}},
    {"smollm", {"starcoder", kStarcoderRules, false, false, false}},
};

}  // namespace

const PreTokenizer* find_pre_tokenizer(std::string_view name) {
    if (name.empty()) name = "default";  // llama.cpp warns and uses the default rules
    for (const Named& n : kPreTokenizers) {
        if (n.name == name) return &n.pre;
    }
    return nullptr;
}

void pre_tokenize(const PreTokenizer& pre, std::span<const uint32_t> cps, std::vector<uint32_t>& ends) {
    ends.clear();
    if (cps.empty()) return;
    thread_local std::vector<uint8_t> flags;
    thread_local std::vector<uint32_t> next;
    flags.resize(cps.size());
    for (size_t i = 0; i < cps.size(); ++i) flags[i] = unicode_flags(cps[i]);

    ends.push_back(static_cast<uint32_t>(cps.size()));
    for (SplitRule rule : pre.rules) {
        next.clear();
        uint32_t begin = 0;
        for (uint32_t end : ends) {
            apply_split_rule(rule, cps, flags, begin, end, next);
            begin = end;
        }
        ends.swap(next);
    }
}

}  // namespace kiln
