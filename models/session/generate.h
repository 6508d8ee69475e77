#pragma once
// The generation loop: evaluate the prompt, then sample, stream text and evaluate one token at
// a time until an end-of-generation token, the token limit, or a full context (a clear stop,
// reported in the stats: kiln does not shift the context).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class Session;
class Tokenizer;
class Sampler;
class Grammar;

// GrammarEnd: the text completes the grammar and nothing may follow. GrammarDead: no token of
// the vocabulary can continue the text within the grammar.
enum class StopReason { EndOfGeneration, StopText, TokenLimit, ContextFull, Cancelled, GrammarEnd, GrammarDead };

struct GenerateOptions {
    int n_predict = -1;       // -1: until end of generation or a full context
    bool render_special = false;  // print control tokens' text
    bool ignore_eos = false;      // keep going past end-of-generation tokens (benchmarks)
    std::vector<std::string> stop;  // stop at the token whose text completes one of these (it is printed)
    // Looked at before each token is sampled: once true, generation stops there (Cancelled).
    // An atomic so that a signal handler can set it (kiln chat's Ctrl-C).
    const std::atomic<bool>* cancel = nullptr;
    std::shared_ptr<const Grammar> grammar;  // generated text must follow it (nullptr: free)
};

struct GenerateStats {
    int prompt_tokens = 0;
    double prompt_seconds = 0;
    int generated = 0;        // tokens sampled (including a final end-of-generation token)
    double generate_seconds = 0;
    StopReason stop = StopReason::TokenLimit;
    std::vector<int32_t> tokens;  // the generated ids

    double prompt_tokens_per_second() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
    double generate_tokens_per_second() const { return generate_seconds > 0 ? generated / generate_seconds : 0; }
};

// `on_text` receives complete UTF-8 text as it is generated. Prompt tokens are given to the
// sampler's history (for the penalties) before the first sample.
GenerateStats generate(Session& session, const Tokenizer& tokenizer, Sampler& sampler, std::span<const int32_t> prompt,
                       const GenerateOptions& options, const std::function<void(std::string_view)>& on_text);

std::string_view stop_reason_text(StopReason r);

}  // namespace kiln
