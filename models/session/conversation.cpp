#include "models/session/conversation.h"

#include <algorithm>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/session/session.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

Conversation::Conversation(Session& session, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options)
    : session_(session), tokenizer_(tokenizer), template_(std::move(tmpl)), options_(std::move(options)) {
    options_.add_generation_prompt = true;
}

std::optional<ChatTemplate> Conversation::model_template(const GgufFile& file) {
    auto text = file.get_string("tokenizer.chat_template");
    if (!text || text->empty()) return std::nullopt;
    return ChatTemplate::parse(*text, file.name() + " chat template");
}

ChatOptions Conversation::default_options(const Tokenizer& tokenizer) {
    ChatOptions o;
    const Vocab& v = tokenizer.vocab();
    if (v.special().bos != kNoToken) o.bos_token = std::string(v.text(v.special().bos));
    if (v.special().eos != kNoToken) o.eos_token = std::string(v.text(v.special().eos));
    return o;
}

void Conversation::set_system(std::string text) {
    if (!messages_.empty() && messages_.front().role == "system") messages_.erase(messages_.begin());
    if (!text.empty()) messages_.insert(messages_.begin(), ChatMessage::text("system", std::move(text)));
}

void Conversation::clear() {
    std::vector<ChatMessage> kept;
    if (!messages_.empty() && messages_.front().role == "system") kept.push_back(messages_.front());
    messages_ = std::move(kept);
}

std::span<const int32_t> Conversation::add_user(std::string text, int* reused) {
    messages_.push_back(ChatMessage::text("user", std::move(text)));
    const std::string prompt = render_chat(template_, messages_, options_);
    // Templates write BOS themselves where the model wants it; add it only when they do not.
    const Vocab& v = tokenizer_.vocab();
    const bool has_bos_text = options_.bos_token && !options_.bos_token->empty() &&
                              prompt.rfind(*options_.bos_token, 0) == 0;
    tokenizer_.encode(prompt, v.add_bos() && !has_bos_text, /*parse_special=*/true, rendered_);
    if (rendered_.size() > static_cast<size_t>(session_.n_ctx())) {
        messages_.pop_back();
        throw Error("the conversation (" + std::to_string(rendered_.size()) + " tokens) no longer fits the " +
                    std::to_string(session_.n_ctx()) + "-token context: /clear to start over, or use a larger -c");
    }
    // Keep the prefix the cache already holds; at least one token is evaluated so there are logits.
    size_t common = 0;
    const size_t limit = std::min({cached_.size(), rendered_.size() - 1, static_cast<size_t>(session_.n_past())});
    while (common < limit && cached_[common] == rendered_[common]) ++common;
    session_.truncate(static_cast<int>(common));
    cached_.assign(rendered_.begin(), rendered_.end());
    if (reused) *reused = static_cast<int>(common);
    return std::span<const int32_t>(rendered_).subspan(common);
}

void Conversation::add_assistant(std::string text, std::span<const int32_t> generated) {
    messages_.push_back(ChatMessage::text("assistant", std::move(text)));
    // The cache holds the sampled ids that were evaluated: all but a final one that ended the
    // turn (end of generation, stop text, full context).
    cached_.insert(cached_.end(), generated.begin(), generated.end());
    cached_.resize(std::min(cached_.size(), static_cast<size_t>(session_.n_past())));
}

}  // namespace kiln
