#include "models/chat/tool_calls.h"

#include <nlohmann/json.hpp>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/chat/chat_template.h"
#include "models/grammar/json_schema.h"

namespace kiln {
namespace {

using Json = nlohmann::ordered_json;

const ToolDefinition* find_tool(const std::vector<ToolDefinition>& tools, const std::string& name) {
    for (const ToolDefinition& t : tools) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

std::string_view trim(std::string_view s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::optional<Json> parse_json(std::string_view text) {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

// {"name": one of the tools, `args_key` or "arguments": an object, or a string holding one}.
std::optional<ParsedToolCall> call_of(const Json& j, const std::vector<ToolDefinition>& tools, const char* args_key) {
    if (!j.is_object()) return std::nullopt;
    auto name = j.find("name");
    if (name == j.end() || !name->is_string() || !find_tool(tools, name->get<std::string>())) return std::nullopt;
    auto args = j.find(args_key);
    if (args == j.end()) args = j.find("arguments");
    if (args == j.end()) return ParsedToolCall{name->get<std::string>(), "{}"};
    if (args->is_string()) {
        const auto inner = parse_json(args->get<std::string>());
        if (!inner || !inner->is_object()) return std::nullopt;
        return ParsedToolCall{name->get<std::string>(), inner->dump()};
    }
    if (!args->is_object()) return std::nullopt;
    return ParsedToolCall{name->get<std::string>(), args->dump()};
}

ParsedReply parse_hermes(std::string_view text, const std::vector<ToolDefinition>& tools) {
    static constexpr std::string_view kOpen = "<tool_call>", kClose = "</tool_call>";
    ParsedReply r;
    std::string content;
    size_t at = 0;
    while (at < text.size()) {
        const size_t open = text.find(kOpen, at);
        if (open == std::string_view::npos) break;
        size_t close = text.find(kClose, open + kOpen.size());
        const size_t body_end = close == std::string_view::npos ? text.size() : close;  // a reply cut short
        const auto j = parse_json(trim(text.substr(open + kOpen.size(), body_end - open - kOpen.size())));
        const auto call = j ? call_of(*j, tools, "arguments") : std::nullopt;
        const size_t next = close == std::string_view::npos ? text.size() : close + kClose.size();
        content += text.substr(at, open - at);
        if (call) {
            r.calls.push_back(*call);
        } else {
            content += text.substr(open, next - open);  // not a call to a known tool: stays text
        }
        at = next;
    }
    if (at < text.size()) content += text.substr(at);
    r.content = std::string(trim(content));
    return r;
}

ParsedReply parse_llama3(std::string_view text, const std::vector<ToolDefinition>& tools) {
    std::string_view body = trim(text);
    if (body.rfind("<|python_tag|>", 0) == 0) body = trim(body.substr(14));
    if (const auto j = parse_json(body)) {
        if (auto call = call_of(*j, tools, "parameters")) return {"", {*call}};
    }
    return {std::string(trim(text)), {}};
}

ParsedReply parse_mistral(std::string_view text, const std::vector<ToolDefinition>& tools) {
    std::string_view body = trim(text);
    if (body.rfind("[TOOL_CALLS]", 0) == 0) body = trim(body.substr(12));
    if (const auto j = parse_json(body)) {
        ParsedReply r;
        if (j->is_array() && !j->empty()) {
            for (const Json& item : *j) {
                auto call = call_of(item, tools, "arguments");
                if (!call) return {std::string(trim(text)), {}};  // all or nothing: not a call list
                r.calls.push_back(*call);
            }
            return r;
        }
        if (auto call = call_of(*j, tools, "arguments")) return {"", {*call}};
    }
    return {std::string(trim(text)), {}};
}

// A schema the call object must follow: {"name": const, args_key: parameters} for each tool,
// with every tool's $defs moved to the top (references are resolved from the root).
std::string call_schema(const std::vector<ToolDefinition>& tools, const char* args_key) {
    Json any = Json::array();
    Json defs = Json::object();
    for (const ToolDefinition& t : tools) {
        const std::string where = "tool " + kiln::quoted(t.name);
        Json params = Json::parse(t.parameters_schema, nullptr, false);
        if (params.is_discarded()) throw Error(where + ": parameters are not JSON");
        if (!params.is_object()) throw Error(where + ": parameters must be a JSON Schema object");
        json_schema_to_gbnf(t.parameters_schema, where + " parameters");  // errors name the tool
        for (const char* key : {"$defs", "definitions"}) {
            if (!params.contains(key)) continue;
            for (const auto& [name, def] : params[key].items()) {
                if (defs.contains(name) && defs[name] != def) {
                    throw Error(where + ": its " + key + "/" + name + " differs from another tool's of that name");
                }
                defs[name] = def;
            }
            params.erase(key);
        }
        if (params.empty()) params = Json{{"type", "object"}};  // no parameters: any object
        Json call = {{"type", "object"},
                     {"properties", {{"name", {{"const", t.name}}}, {args_key, params}}},
                     {"required", {"name", args_key}},
                     {"additionalProperties", false}};
        any.push_back(std::move(call));
    }
    Json schema = {{"anyOf", any}};
    if (!defs.empty()) schema["$defs"] = defs;
    return schema.dump();
}

}  // namespace

const char* tool_call_format_name(ToolCallFormat f) {
    switch (f) {
        case ToolCallFormat::Hermes: return "hermes";
        case ToolCallFormat::Llama3: return "llama3";
        case ToolCallFormat::Mistral: return "mistral";
    }
    return "?";
}

std::optional<ToolCallFormat> detect_tool_call_format(const ChatTemplate& tmpl) {
    const std::string& src = tmpl.source();
    if (src.find("<tool_call>") != std::string::npos) return ToolCallFormat::Hermes;
    if (src.find("[TOOL_CALLS]") != std::string::npos) return ToolCallFormat::Mistral;
    if (src.find("<|python_tag|>") != std::string::npos ||
        (src.find("<|start_header_id|>") != std::string::npos && src.find("\"parameters\"") != std::string::npos)) {
        return ToolCallFormat::Llama3;
    }
    return std::nullopt;
}

bool template_takes_tools(const ChatTemplate& tmpl) { return tmpl.source().find("tools") != std::string::npos; }

ParsedReply parse_tool_calls(ToolCallFormat format, std::string_view text, const std::vector<ToolDefinition>& tools) {
    switch (format) {
        case ToolCallFormat::Hermes: return parse_hermes(text, tools);
        case ToolCallFormat::Llama3: return parse_llama3(text, tools);
        case ToolCallFormat::Mistral: return parse_mistral(text, tools);
    }
    return {std::string(text), {}};
}

std::string tool_call_gbnf(ToolCallFormat format, const std::vector<ToolDefinition>& tools, bool parallel) {
    if (tools.empty()) throw Error("tool_call_gbnf: no tools");
    const char* args_key = format == ToolCallFormat::Llama3 ? "parameters" : "arguments";
    const std::string rules = json_schema_rules(call_schema(tools, args_key), "tools", "tool-call");
    std::string root;
    switch (format) {
        case ToolCallFormat::Hermes:
            root = "root ::= hermes-call" + std::string(parallel ? " (\"\\n\" hermes-call)*" : "") + "\n" +
                   "hermes-call ::= \"<tool_call>\\n\" tool-call \"\\n</tool_call>\"\n";
            break;
        case ToolCallFormat::Llama3: root = "root ::= tool-call\n"; break;  // one call per turn
        case ToolCallFormat::Mistral:
            root = "root ::= \"[\" tool-call" + std::string(parallel ? " (\",\" tool-call)*" : "") + " \"]\"\n";
            break;
    }
    return root + rules;
}

}  // namespace kiln
