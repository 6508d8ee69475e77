#include "models/session/generate.h"

#include <chrono>

#include <optional>

#include "graph/error.h"
#include "models/grammar/grammar_filter.h"
#include "models/session/sampler.h"
#include "models/session/session.h"
#include "models/tokenizer/token_stream.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

std::string_view stop_reason_text(StopReason r) {
    switch (r) {
        case StopReason::EndOfGeneration: return "end of generation";
        case StopReason::StopText: return "stop text";
        case StopReason::TokenLimit: return "token limit";
        case StopReason::ContextFull: return "context full";
        case StopReason::GrammarEnd: return "grammar complete";
        case StopReason::GrammarDead: return "no token fits the grammar";
        case StopReason::Cancelled: return "cancelled";
    }
    return "?";
}

GenerateStats generate(Session& session, const Tokenizer& tokenizer, Sampler& sampler, std::span<const int32_t> prompt,
                       const GenerateOptions& options, const std::function<void(std::string_view)>& on_text) {
    using Clock = std::chrono::steady_clock;
    GenerateStats stats;
    if (prompt.empty()) throw Error("the prompt has no tokens");
    if (session.n_past() + static_cast<int64_t>(prompt.size()) > session.n_ctx()) {
        throw Error("the prompt's " + std::to_string(prompt.size()) + " tokens do not fit in the " +
                    std::to_string(session.n_ctx() - session.n_past()) + " free slots of the context (use -c)");
    }
    for (int32_t t : prompt) sampler.accept(t);
    session.prepare(static_cast<int>(prompt.size()));
    session.prepare(1);

    auto t0 = Clock::now();
    std::span<const float> logits = session.decode(prompt);
    stats.prompt_tokens = static_cast<int>(prompt.size());
    stats.prompt_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

    DecodeOptions decode;
    decode.render_special = options.render_special;
    decode.strip_leading_space = false;  // a continuation keeps its spaces
    TokenTextStream stream(tokenizer, decode);
    const Vocab& vocab = tokenizer.vocab();
    std::optional<GrammarFilter> grammar;
    if (options.grammar) grammar.emplace(options.grammar, std::make_shared<GrammarVocab>(tokenizer));

    std::string text_so_far;  // only kept when there are stop texts to look for
    // As llama.cpp's reverse prompts: a stop text anywhere in what the latest token added (or
    // straddling it and the text before), so a token " Tom." stops at "Tom".
    auto hit_stop = [&](std::string_view text) {
        if (options.stop.empty()) return false;
        text_so_far += text;
        for (const std::string& s : options.stop) {
            if (s.empty()) continue;
            const size_t window = text.size() + s.size() - 1;
            const size_t from = text_so_far.size() > window ? text_so_far.size() - window : 0;
            if (text_so_far.find(s, from) != std::string::npos) return true;
        }
        return false;
    };

    stats.tokens.reserve(static_cast<size_t>(options.n_predict >= 0 ? options.n_predict : session.n_ctx()));
    t0 = Clock::now();
    for (;;) {
        if (options.cancel && options.cancel->load()) {
            stats.stop = StopReason::Cancelled;
            break;
        }
        if (options.n_predict >= 0 && stats.generated >= options.n_predict) {
            stats.stop = StopReason::TokenLimit;
            break;
        }
        const int32_t id = sampler.sample(logits, grammar ? &*grammar : nullptr);
        if (id == Sampler::kNoToken) {
            stats.stop = StopReason::GrammarDead;
            break;
        }
        if (grammar) grammar->accept(id);
        sampler.accept(id);
        stats.tokens.push_back(id);
        ++stats.generated;
        if (!options.ignore_eos && vocab.is_eog(id)) {
            stats.stop = StopReason::EndOfGeneration;
            break;
        }
        if (std::string_view text = stream.push(id); !text.empty()) {
            on_text(text);
            if (hit_stop(text)) {
                stats.stop = StopReason::StopText;
                break;
            }
        }
        if (grammar && grammar->must_end()) {
            stats.stop = StopReason::GrammarEnd;
            break;
        }
        if (session.n_past() >= session.n_ctx()) {
            stats.stop = StopReason::ContextFull;
            break;
        }
        logits = session.decode({&id, 1});
    }
    if (std::string_view rest = stream.finish(); !rest.empty()) on_text(rest);
    stats.generate_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return stats;
}

}  // namespace kiln
