#pragma once
// Log-probabilities of the model's next-token distribution: the softmax of the raw logits,
// before any sampler setting (temperature, penalties, grammar), as OpenAI's `logprobs` report.
#include <cstdint>
#include <span>
#include <vector>

namespace kiln {

struct TokenLogprob {
    int32_t id = 0;
    float logprob = 0;  // natural log, <= 0
};

struct TokenLogprobs {
    TokenLogprob chosen;
    std::vector<TokenLogprob> top;  // the `top_n` most likely, most likely first (ties: lower id)
};

// `chosen` and the top `top_n` (at most the vocabulary) of log_softmax(logits). Throws
// kiln::Error when `chosen` is outside the logits.
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t chosen, int top_n);

}  // namespace kiln
