#include "apps/server/openai_json.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "apps/server/json_fields.h"
#include "apps/server/tool_json.h"
#include "graph/error.h"
#include "graph/error_text.h"
#include "models/grammar/grammar.h"
#include "models/grammar/json_schema.h"

namespace kiln::server {
namespace {

constexpr int kMaxChoices = 16;  // `n`: each choice takes a slot

using nlohmann::json;

// A message's content: a string, or an array of parts of which the text ones count.
std::string content_text(const json& content, const std::string& where) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) throw wrong_type(where, "a string or an array of content parts");
    std::string text;
    for (const json& part : content) {
        if (!part.is_object()) throw wrong_type(where + "[]", "an object");
        const json* type = field(part, "type");
        if (!type || !type->is_string()) throw wrong_type(where + "[].type", "a string");
        if (*type != "text") {
            throw bad_request("invalid_value", where + ": content parts of type " + type->dump() + " are not supported");
        }
        const json* t = field(part, "text");
        if (!t || !t->is_string()) throw wrong_type(where + "[].text", "a string");
        text += t->get<std::string>();
    }
    return text;
}

std::vector<ChatMessage> parse_messages(const json& body) {
    const json* messages = field(body, "messages");
    if (!messages) throw bad_request("missing_field", "'messages' is required");
    if (!messages->is_array()) throw wrong_type("messages", "an array");
    if (messages->empty()) throw bad_request("invalid_value", "'messages' must not be empty");
    std::vector<ChatMessage> out;
    for (size_t i = 0; i < messages->size(); ++i) {
        const json& m = (*messages)[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) throw wrong_type(where, "an object");
        const json* role = field(m, "role");
        if (!role || !role->is_string()) throw wrong_type(where + ".role", "a string");
        const std::string r = role->get<std::string>();
        if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool") {
            // Quoted as JSON: a role holding a newline must not break the one-line message.
            throw bad_request("invalid_value", where + ".role: unknown role " + role->dump());
        }
        ChatMessage msg;
        msg.role = r == "developer" ? "system" : r;  // OpenAI's newer name for the system role
        const json* content = field(m, "content");
        if (content) {
            msg.content = content_text(*content, where + ".content");
        } else if (r == "assistant") {
            msg.content = std::nullopt;
        } else {
            throw bad_request("missing_field", where + ".content is required");
        }
        if (const json* calls = field(m, "tool_calls"); calls && r == "assistant") {
            if (!calls->is_array()) throw wrong_type(where + ".tool_calls", "an array");
            for (size_t k = 0; k < calls->size(); ++k) {
                msg.tool_calls.push_back(
                    parse_message_tool_call((*calls)[k], where + ".tool_calls[" + std::to_string(k) + "]"));
            }
        }
        for (const char* key : {"tool_call_id", "name"}) {
            const json* v = field(m, key);
            if (!v) continue;
            if (!v->is_string()) throw wrong_type(where + "." + key, "a string");
            (std::string(key) == "name" ? msg.name : msg.tool_call_id) = v->get<std::string>();
        }
        out.push_back(std::move(msg));
    }
    return out;
}

std::vector<std::string> parse_stop(const json& body) {
    const json* stop = field(body, "stop");
    if (!stop) return {};
    std::vector<std::string> out;
    if (stop->is_string()) {
        out.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
        if (stop->size() > 16) throw bad_request("invalid_value", "'stop' holds at most 16 strings");
        for (const json& s : *stop) {
            if (!s.is_string()) throw wrong_type("stop[]", "a string");
            out.push_back(s.get<std::string>());
        }
    } else {
        throw wrong_type("stop", "a string or an array of strings");
    }
    // The engine thread matches them after every token: keep that cheap.
    for (const std::string& s : out) {
        if (s.size() > 256) throw bad_request("invalid_value", "'stop' strings are at most 256 bytes");
    }
    return out;
}

// What the output must follow: OpenAI's response_format, or llama-server's `grammar` (GBNF) or
// `json_schema` fields; at most one. Compiled here, so a bad one is a 400 naming it.
std::shared_ptr<const Grammar> parse_output_format(const json& body, BodyAsWritten& as_written) {
    std::string gbnf, source;
    int given = 0;
    if (const json* rf = field(body, "response_format")) {
        if (!rf->is_object()) throw wrong_type("response_format", "an object");
        const json* type = field(*rf, "type");
        if (!type || !type->is_string()) throw wrong_type("response_format.type", "a string");
        const std::string t = type->get<std::string>();
        if (t == "json_object") {
            gbnf = json_object_gbnf();
            source = "response_format";
            ++given;
        } else if (t == "json_schema") {
            const json* js = field(*rf, "json_schema");
            if (!js || !js->is_object()) throw wrong_type("response_format.json_schema", "an object");
            if (!field(*js, "schema")) throw bad_request("missing_field", "'response_format.json_schema.schema' is required");
            source = "response_format.json_schema.schema";
            gbnf = as_written.dump({"response_format", "json_schema", "schema"}, *field(*js, "schema"));
            ++given;
        } else if (t != "text") {
            throw bad_request("invalid_value", "'response_format.type' " + quoted(t) + " is not one of text, json_object, json_schema");
        }
    }
    if (const json* g = field(body, "grammar")) {
        if (!g->is_string()) throw wrong_type("grammar", "a string (GBNF)");
        gbnf = g->get<std::string>();
        source = "grammar";
        ++given;
    }
    if (const json* js = field(body, "json_schema")) {
        if (!js->is_object() && !js->is_boolean()) throw wrong_type("json_schema", "an object");
        source = "json_schema";
        gbnf = as_written.dump({"json_schema"}, *js);
        ++given;
    }
    if (given == 0) return nullptr;
    if (given > 1) throw bad_request("invalid_value", "give one of 'response_format', 'grammar' and 'json_schema'");
    try {
        if (source != "grammar" && source != "response_format") gbnf = json_schema_to_gbnf(gbnf, source);
        return std::make_shared<const Grammar>(Grammar::parse(gbnf, source));
    } catch (const Error& e) {
        throw bad_request("invalid_value", e.what());
    }
}

// Chat: `logprobs` (boolean) and `top_logprobs` (0-20, needs logprobs); completions: `logprobs`
// (the number of alternatives, 0-20). -1: none.
int parse_logprobs(const json& body, bool chat) {
    constexpr int kMaxTop = 20;
    if (!chat) {
        if (const json* lp = field(body, "logprobs"); lp && lp->is_boolean()) return lp->get<bool>() ? 0 : -1;
        return static_cast<int>(integer(body, "logprobs", 0, kMaxTop).value_or(-1));
    }
    const bool on = boolean(body, "logprobs").value_or(false);
    const auto top = integer(body, "top_logprobs", 0, kMaxTop);
    if (top && !on) throw bad_request("invalid_value", "'top_logprobs' needs 'logprobs': true");
    return on ? static_cast<int>(top.value_or(0)) : -1;
}

json bytes_json(const std::string& text) {
    json b = json::array();
    for (const unsigned char c : text) b.push_back(c);
    return b;
}

// A choice's `logprobs`: null when the request did not ask.
json logprobs_json(const ResponseInfo& info, std::span<const GeneratedLogprob> logprobs) {
    if (!info.logprobs) return nullptr;
    if (info.chat) {
        json content = json::array();
        for (const GeneratedLogprob& g : logprobs) {
            json top = json::array();
            for (const TokenText& t : g.top) {
                top.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_json(t.text)}});
            }
            content.push_back({{"token", g.chosen.text},
                               {"logprob", g.chosen.logprob},
                               {"bytes", bytes_json(g.chosen.text)},
                               {"top_logprobs", top}});
        }
        return {{"content", content}, {"refusal", nullptr}};
    }
    json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(), offsets = json::array();
    size_t offset = 0;
    for (const GeneratedLogprob& g : logprobs) {
        tokens.push_back(g.chosen.text);
        token_logprobs.push_back(g.chosen.logprob);
        json top = json::object();
        for (const TokenText& t : g.top) {
            if (!top.contains(t.text)) top[t.text] = t.logprob;  // two tokens of one text: the likelier
        }
        top_logprobs.push_back(top);
        offsets.push_back(offset);
        offset += g.chosen.text.size();
    }
    return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top_logprobs}, {"text_offset", offsets}};
}

json usage_json(const Usage& u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json finish_json(Finish f) {
    if (f == Finish::Stop || f == Finish::Length) return finish_reason_text(f);
    return nullptr;
}

json envelope(const ResponseInfo& info, bool chunk) {
    const char* object = info.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
    return {{"id", info.id}, {"object", object}, {"created", info.created}, {"model", info.model}};
}

}  // namespace

ApiError bad_request(std::string code, const std::string& message) {
    return ApiError(400, "invalid_request_error", std::move(code), message);
}

std::string error_json(const ApiError& e) {
    return dump({{"error", {{"message", e.what()}, {"type", e.type}, {"code", e.code}}}});
}

CompletionRequest parse_completion_request(std::string_view body_text, bool chat, const SamplerParams& defaults) {
    const json body = parse_object_body(body_text);
    BodyAsWritten as_written(body_text);
    CompletionRequest r;
    r.chat = chat;
    if (chat) {
        r.messages = parse_messages(body);
    } else {
        const json* prompt = field(body, "prompt");
        if (!prompt) throw bad_request("missing_field", "'prompt' is required");
        if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
            r.prompt = (*prompt)[0].get<std::string>();
        } else if (prompt->is_string()) {
            r.prompt = prompt->get<std::string>();
        } else {
            throw wrong_type("prompt", "a string (or an array of one string)");
        }
    }
    r.stream = boolean(body, "stream").value_or(false);
    r.n = static_cast<int>(integer(body, "n", 1, kMaxChoices).value_or(1));
    if (const json* m = field(body, "model"); m && !m->is_string()) throw wrong_type("model", "a string");

    SamplerParams& sp = r.params.sampling;
    sp = defaults;
    if (auto v = number(body, "temperature", 0, 2)) sp.temperature = static_cast<float>(*v);
    if (auto v = number(body, "top_p", 0, 1)) sp.top_p = static_cast<float>(*v);
    if (auto v = number(body, "min_p", 0, 1)) sp.min_p = static_cast<float>(*v);
    if (auto v = integer(body, "top_k", 0, std::numeric_limits<int32_t>::max())) sp.top_k = static_cast<int>(*v);
    if (auto v = number(body, "presence_penalty", -2, 2)) sp.presence_penalty = static_cast<float>(*v);
    if (auto v = number(body, "frequency_penalty", -2, 2)) sp.frequency_penalty = static_cast<float>(*v);
    if (auto v = number(body, "repeat_penalty", 0.01, 10)) sp.repeat_penalty = static_cast<float>(*v);
    if (auto v = integer(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
        sp.seed = static_cast<uint64_t>(*v);  // a negative seed is as good as any other
    }
    // max_completion_tokens is the newer name; either is honoured.
    for (const char* name : {"max_tokens", "max_completion_tokens"}) {
        if (auto v = integer(body, name, 1, std::numeric_limits<int>::max())) r.params.max_tokens = static_cast<int>(*v);
    }
    r.params.stop = parse_stop(body);
    if (chat) {
        r.tools = parse_tool_request(body, as_written);
    } else if (field(body, "tools") || field(body, "tool_choice")) {
        throw bad_request("unsupported_value", "'tools' are for /v1/chat/completions");
    }
    r.params.logprobs = parse_logprobs(body, chat);
    r.params.cache_prompt = boolean(body, "cache_prompt").value_or(true);
    r.params.grammar = parse_output_format(body, as_written);
    if (r.params.grammar && r.tools.forced()) {
        throw bad_request("invalid_value", "a required tool call and 'response_format' (or a grammar) cannot both apply");
    }
    try {
        sp.validate();
    } catch (const Error& e) {
        throw bad_request("invalid_value", e.what());
    }
    return r;
}

std::string completion_json(const ResponseInfo& info, std::span<const ChoiceText> choices, const Usage& usage) {
    json j = envelope(info, false);
    json list = json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        const ChoiceText& c = choices[i];
        json choice = {{"index", i}, {"finish_reason", finish_json(c.finish)}, {"logprobs", logprobs_json(info, c.logprobs)}};
        if (info.chat) {
            json message = {{"role", "assistant"}, {"content", c.text}};
            if (info.tool_format) {
                const ParsedReply reply = parse_tool_calls(*info.tool_format, c.text, info.tools);
                if (!reply.calls.empty()) {
                    message["content"] = reply.content.empty() ? json(nullptr) : json(reply.content);
                    message["tool_calls"] = tool_calls_json(reply.calls, info.id + "/" + std::to_string(i), /*delta=*/false);
                    if (c.finish == Finish::Stop) choice["finish_reason"] = "tool_calls";
                }
            }
            choice["message"] = message;
        } else {
            choice["text"] = c.text;
        }
        list.push_back(std::move(choice));
    }
    j["choices"] = list;
    j["usage"] = usage_json(usage);
    return dump(j);
}

std::vector<std::string> held_reply_chunks(const ResponseInfo& info, int index, const std::string& text,
                                           std::span<const GeneratedLogprob> logprobs, bool& called) {
    const ParsedReply reply = parse_tool_calls(*info.tool_format, text, info.tools);
    called = !reply.calls.empty();
    std::vector<std::string> out;
    const std::string content = called ? reply.content : text;
    json first = envelope(info, true);
    json delta = {{"role", "assistant"}, {"content", content.empty() && called ? json(nullptr) : json(content)}};
    first["choices"] = json::array({{{"index", index}, {"finish_reason", nullptr}, {"delta", delta},
                                     {"logprobs", logprobs_json(info, logprobs)}}});
    out.push_back(dump(first));
    if (called) {
        json calls = envelope(info, true);
        calls["choices"] = json::array({{{"index", index}, {"finish_reason", nullptr},
                                         {"delta", {{"tool_calls", tool_calls_json(reply.calls, info.id + "/" + std::to_string(index), /*delta=*/true)}}},
                                         {"logprobs", logprobs_json(info, {})}}});
        out.push_back(dump(calls));
    }
    return out;
}

std::string chunk_json(const ResponseInfo& info, int index, const std::string& text, bool first,
                       std::span<const GeneratedLogprob> logprobs) {
    json j = envelope(info, true);
    json choice = {{"index", index}, {"finish_reason", nullptr}, {"logprobs", logprobs_json(info, logprobs)}};
    if (info.chat) {
        json delta = {{"content", text}};
        if (first) delta["role"] = "assistant";
        choice["delta"] = delta;
    } else {
        choice["text"] = text;
    }
    j["choices"] = json::array({choice});
    return dump(j);
}

std::string final_chunk_json(const ResponseInfo& info, int index, Finish finish, const Usage* usage,
                             std::span<const GeneratedLogprob> logprobs, bool tool_calls) {
    json j = envelope(info, true);
    json choice = {{"index", index}, {"finish_reason", finish_json(finish)}, {"logprobs", logprobs_json(info, logprobs)}};
    if (tool_calls && finish == Finish::Stop) choice["finish_reason"] = "tool_calls";
    if (info.chat) {
        choice["delta"] = json::object();
    } else {
        choice["text"] = "";
    }
    j["choices"] = json::array({choice});
    if (usage) j["usage"] = usage_json(*usage);
    return dump(j);
}

std::string health_json(const std::optional<ApiError>& problem) {
    if (!problem) return dump({{"status", "ok"}});
    return dump({{"status", "unavailable"},
                 {"error", {{"message", problem->what()}, {"type", problem->type}, {"code", problem->code}}}});
}

std::string models_json(const std::string& model, int64_t created) {
    return dump({{"object", "list"},
                 {"data", json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "kiln"}}})}});
}

}  // namespace kiln::server
