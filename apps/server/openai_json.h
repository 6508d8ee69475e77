#pragma once
// OpenAI's wire format: request bodies of /v1/chat/completions and /v1/completions parsed and
// checked into what the scheduler needs, and the JSON of responses, stream chunks and errors.
// Fields kiln does not implement are refused by name; other unknown fields are ignored, as
// OpenAI's clients send fields a server may not know.
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "apps/server/scheduler.h"
#include "models/chat/chat_template.h"
#include "models/chat/tool_calls.h"

namespace kiln::server {

// A request the server refuses, with the HTTP status and OpenAI's error type and code.
struct ApiError : std::runtime_error {
    ApiError(int status, std::string type, std::string code, const std::string& message)
        : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)) {}
    int status;
    std::string type;  // "invalid_request_error", "authentication_error", "server_error", ...
    std::string code;  // "invalid_json", "invalid_type", "context_length_exceeded", ...
};

// 400 invalid_request_error with the given code.
ApiError bad_request(std::string code, const std::string& message);

// {"error": {"message", "type", "code"}}
std::string error_json(const ApiError& e);

// A chat request's tools (OpenAI's function calling).
struct ToolRequest {
    std::vector<ToolDefinition> tools;
    std::string tools_json;  // the `tools` array as the client wrote it (key order kept), for the template
    enum class Choice { None, Auto, Required, Named };
    Choice choice = Choice::None;  // no tools: None; tools without tool_choice: Auto
    std::string named;             // Choice::Named: the function
    bool parallel = true;          // parallel_tool_calls

    bool active() const { return choice != Choice::None; }
    bool forced() const { return choice == Choice::Required || choice == Choice::Named; }
    // The tools a forced call may use: all, or the named one.
    std::vector<ToolDefinition> callable() const;
};

struct CompletionRequest {
    bool chat = false;
    std::vector<ChatMessage> messages;  // chat
    std::string prompt;                 // completions
    GenerationParams params;
    bool stream = false;
    int n = 1;          // choices, each generated in its own slot
    ToolRequest tools;  // chat only
};

// Throws ApiError (400) for malformed JSON, a wrong type or an out-of-range value, naming the
// field. `defaults` are the server's sampling settings, overridden field by field.
CompletionRequest parse_completion_request(std::string_view body, bool chat, const SamplerParams& defaults);

// What every response and chunk of one request repeats.
struct ResponseInfo {
    bool chat = false;
    std::string id;  // "chatcmpl-N" / "cmpl-N"
    int64_t created = 0;
    std::string model;
    bool logprobs = false;  // the request asked for logprobs: choices carry them
    // With tools: the reply is read for calls in this format (a streamed one is sent when it
    // ends, as its text), and `tools` are the functions it may call.
    std::optional<ToolCallFormat> tool_format;
    std::vector<ToolDefinition> tools;
};

struct Usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
};

// One choice of a finished request.
struct ChoiceText {
    std::string text;
    Finish finish = Finish::Stop;
    std::vector<GeneratedLogprob> logprobs;  // with info.logprobs
};

// With info.logprobs, `logprobs` are the tokens the choice (or chunk) carries: a chat's as
// `logprobs.content` [{token, logprob, bytes, top_logprobs}], a completion's as `logprobs`
// {tokens, token_logprobs, top_logprobs, text_offset} (offsets into this response's text).
std::string completion_json(const ResponseInfo& info, std::span<const ChoiceText> choices, const Usage& usage);
// One `data:` payload of a stream for choice `index`: text (a chat's first chunk also carries
// the role), or its last one with finish_reason (and, when given, the request's usage).
std::string chunk_json(const ResponseInfo& info, int index, const std::string& text, bool first,
                       std::span<const GeneratedLogprob> logprobs = {});
std::string final_chunk_json(const ResponseInfo& info, int index, Finish finish, const Usage* usage,
                             std::span<const GeneratedLogprob> logprobs = {}, bool tool_calls = false);
// With info.tool_format, a stream holds each choice's text and sends it at the end: these
// chunks (the content, then the calls as deltas); `called` says whether there were calls.
std::vector<std::string> held_reply_chunks(const ResponseInfo& info, int index, const std::string& text,
                                           std::span<const GeneratedLogprob> logprobs, bool& called);
// GET /v1/models
std::string models_json(const std::string& model, int64_t created);
// GET /health: {"status":"ok"}, or {"status":"unavailable","error":{...}} (the error in
// OpenAI's shape) when the server can generate nothing more.
std::string health_json(const std::optional<ApiError>& problem);

}  // namespace kiln::server
