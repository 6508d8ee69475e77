#pragma once
// A chat over one Session: the messages so far, rendered with the model's chat template every
// turn, and the tokens already in the KV cache. Each turn only evaluates the tokens that differ
// from what the cache holds (the longest common prefix is kept), so history is not re-evaluated.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "models/chat/chat_template.h"

namespace kiln {

class Session;
class Tokenizer;
class GgufFile;

class Conversation {
public:
    Conversation(Session& session, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options);

    // The template from `tokenizer.chat_template`, or nullopt when the model has none.
    static std::optional<ChatTemplate> model_template(const GgufFile& file);
    // bos_token / eos_token texts from the vocabulary, as transformers passes them.
    static ChatOptions default_options(const Tokenizer& tokenizer);

    void set_system(std::string text);  // replaces the system message (or removes it when empty)
    void set_thinking(std::optional<bool> enable) { options_.enable_thinking = enable; }
    void clear();                       // forgets every turn but the system message

    // Adds the user's turn and returns the tokens to evaluate next: the rendered conversation
    // minus the prefix the cache already holds (the session is rewound to that prefix).
    // `reused` receives the prefix length. Throws kiln::Error when it does not fit the context.
    std::span<const int32_t> add_user(std::string text, int* reused = nullptr);
    // Records the model's reply (text as shown, ids as evaluated and sampled).
    void add_assistant(std::string text, std::span<const int32_t> generated);

    const std::vector<ChatMessage>& messages() const { return messages_; }
    const ChatTemplate& chat_template() const { return template_; }

private:
    Session& session_;
    const Tokenizer& tokenizer_;
    ChatTemplate template_;
    ChatOptions options_;
    std::vector<ChatMessage> messages_;
    std::vector<int32_t> cached_;  // the tokens the session's KV cache holds, in order
    std::vector<int32_t> rendered_;
};

}  // namespace kiln
