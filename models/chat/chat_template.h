#pragma once
// Chat templates: the Jinja template a model ships in `tokenizer.chat_template`, turned into
// the prompt text for a conversation exactly as Hugging Face transformers'
// apply_chat_template(..., tokenize=False) renders it.
//
//   ChatTemplate tmpl = text ? ChatTemplate::parse(*text, "model.gguf chat template")
//                            : ChatTemplate::chatml();             // parse once
//   ChatOptions opts;
//   opts.bos_token = "<|begin_of_text|>";                         // the vocab's texts, if any
//   opts.eos_token = "<|eot_id|>";
//   std::string prompt = render_chat(tmpl, messages, opts);       // render per request
//
// Errors are kiln::Error with one line "name:line:column: message"; a template's own
// raise_exception(...) is a jinja::TemplateException whose message() is the template's text.
// Rendering is const and thread-safe; copies of a ChatTemplate share the parsed tree.
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/chat/ast.h"
#include "models/chat/evaluator.h"
#include "models/chat/value.h"

namespace kiln {

struct ChatToolCall {
    std::string id;  // empty: not passed to the template
    std::string name;
    // Usually a dict (the model's JSON arguments as values); templates print it with
    // `| tojson`. A string is passed as is.
    jinja::Value arguments = jinja::Value(jinja::Dict{});
};

// One turn. Optional fields reach the template only when set, as keys of the message dict
// (templates test `'tool_calls' in message` and `message.reasoning_content is defined`).
struct ChatMessage {
    std::string role;
    std::optional<std::string> content = std::string();  // nullopt: None (a tool-call-only turn)
    std::optional<std::string> reasoning_content;
    std::vector<ChatToolCall> tool_calls;  // passed as {"type": "function", "function": {...}}
    std::optional<std::string> tool_call_id;
    std::optional<std::string> name;

    // The common case: a role and its text.
    static ChatMessage text(std::string role, std::string content) {
        ChatMessage m;
        m.role = std::move(role);
        m.content = std::move(content);
        return m;
    }
};

struct ChatOptions {
    bool add_generation_prompt = true;
    std::optional<bool> enable_thinking;  // undefined in the template when unset
    std::optional<std::string> bos_token;  // undefined when unset (as transformers drops them)
    std::optional<std::string> eos_token;
    jinja::Value tools = jinja::Value::none();  // list of tool definitions; none = no tools
    jinja::Value documents = jinja::Value::none();
    std::vector<std::pair<std::string, jinja::Value>> extra;  // more top-level variables
    std::optional<std::tm> date;  // what strftime_now() formats; the local time when unset
    jinja::RenderLimits limits;
    jinja::RenderStats* stats = nullptr;  // when set, receives what the render used of the limits
};

class ChatTemplate {
public:
    // Throws kiln::Error ("name:line:column: ...") for syntax errors and for filters or tests
    // kiln does not implement (as Jinja2 does when compiling).
    static ChatTemplate parse(std::string_view source, std::string name);
    // The built-in fallback for models without a template: ChatML.
    static ChatTemplate chatml();

    const std::string& name() const { return name_; }
    const std::string& source() const { return source_; }

    // Low-level: renders with exactly these top-level variables. `stats`, when given, receives
    // what the render used of its limits (also when it fails).
    std::string render(const jinja::Dict& variables, const jinja::RenderLimits& limits = {},
                       const std::optional<std::tm>& date = std::nullopt, jinja::RenderStats* stats = nullptr) const;

private:
    ChatTemplate(std::string name, std::string source, std::shared_ptr<const jinja::Body> body)
        : name_(std::move(name)), source_(std::move(source)), body_(std::move(body)) {}

    std::string name_;
    std::string source_;
    std::shared_ptr<const jinja::Body> body_;
};

// The message as the dict a template sees.
jinja::Value message_value(const ChatMessage& message);

// messages, add_generation_prompt, tools, documents, bos/eos tokens, enable_thinking and
// extra variables, as transformers passes them.
std::string render_chat(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                        const ChatOptions& options = {});

}  // namespace kiln
