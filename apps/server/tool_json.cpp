#include "apps/server/tool_json.h"

#include <cctype>

#include "apps/server/json_fields.h"
#include "graph/error.h"
#include "graph/error_text.h"
#include "models/chat/json_value.h"

namespace kiln::server {
namespace {

using nlohmann::json;

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (const char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
}

// A 9-character id of letters and digits from the request's id and the call's index.
std::string call_id(const std::string& request_id, size_t index) {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t h = 1469598103934665603ULL;  // FNV-1a over the request id, then the index
    for (const char c : request_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ index) * 1099511628211ULL;
    std::string id;
    for (int i = 0; i < 9; ++i) {
        id += kAlphabet[h % 62];
        h /= 62;
        if (h == 0) h = 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i);
    }
    return id;
}

}  // namespace

std::vector<ToolDefinition> ToolRequest::callable() const {
    if (choice != Choice::Named) return tools;
    for (const ToolDefinition& t : tools) {
        if (t.name == named) return {t};
    }
    return {};
}

ToolRequest parse_tool_request(const json& body, BodyAsWritten& as_written) {
    ToolRequest r;
    const json* tools = field(body, "tools");
    if (tools) {
        if (!tools->is_array()) throw wrong_type("tools", "an array");
        if (tools->size() > 128) throw bad_request("invalid_value", "'tools' holds at most 128 functions");
        for (size_t i = 0; i < tools->size(); ++i) {
            const json& t = (*tools)[i];
            const std::string where = "tools[" + std::to_string(i) + "]";
            if (!t.is_object()) throw wrong_type(where, "an object");
            const json* type = field(t, "type");
            if (!type || *type != "function") throw bad_request("invalid_value", where + ".type must be \"function\"");
            const json* fn = field(t, "function");
            if (!fn || !fn->is_object()) throw wrong_type(where + ".function", "an object");
            const json* name = field(*fn, "name");
            if (!name || !name->is_string() || !valid_name(name->get<std::string>())) {
                throw bad_request("invalid_value", where + ".function.name must be 1-64 letters, digits, '_' or '-'");
            }
            ToolDefinition def;
            def.name = name->get<std::string>();
            for (const ToolDefinition& seen : r.tools) {
                if (seen.name == def.name) throw bad_request("invalid_value", where + ": a second function named " + kiln::quoted(def.name));
            }
            if (const json* params = field(*fn, "parameters")) {
                if (!params->is_object()) throw wrong_type(where + ".function.parameters", "an object (a JSON Schema)");
                def.parameters_schema = as_written.dump({"tools", i, "function", "parameters"}, *params);
            }
            r.tools.push_back(std::move(def));
        }
        r.tools_json = as_written.dump({"tools"}, *tools);
    }
    if (!r.tools.empty()) r.choice = ToolRequest::Choice::Auto;
    if (const json* choice = field(body, "tool_choice")) {
        if (choice->is_string()) {
            const std::string c = choice->get<std::string>();
            if (c == "none") {
                r.choice = ToolRequest::Choice::None;
            } else if (c == "auto" || c == "required") {
                if (r.tools.empty()) throw bad_request("invalid_value", "'tool_choice' " + kiln::quoted(c) + " needs 'tools'");
                r.choice = c == "auto" ? ToolRequest::Choice::Auto : ToolRequest::Choice::Required;
            } else {
                throw bad_request("invalid_value", "'tool_choice' must be none, auto, required or a function, not " + kiln::quoted(c));
            }
        } else if (choice->is_object()) {
            const json* fn = field(*choice, "function");
            const json* name = fn && fn->is_object() ? field(*fn, "name") : nullptr;
            if (!name || !name->is_string()) throw wrong_type("tool_choice.function.name", "a string");
            r.named = name->get<std::string>();
            r.choice = ToolRequest::Choice::Named;
            if (r.callable().empty()) throw bad_request("invalid_value", "'tool_choice' names " + kiln::quoted(r.named) + ", which is not in 'tools'");
            r.choice = ToolRequest::Choice::Named;
        } else {
            throw wrong_type("tool_choice", "a string or an object");
        }
    }
    r.parallel = boolean(body, "parallel_tool_calls").value_or(true);
    return r;
}

ChatToolCall parse_message_tool_call(const json& call, const std::string& where) {
    if (!call.is_object()) throw wrong_type(where, "an object");
    const json* fn = field(call, "function");
    if (!fn || !fn->is_object()) throw wrong_type(where + ".function", "an object");
    const json* name = field(*fn, "name");
    if (!name || !name->is_string()) throw wrong_type(where + ".function.name", "a string");
    ChatToolCall c;
    c.name = name->get<std::string>();
    if (const json* id = field(call, "id")) {
        if (!id->is_string()) throw wrong_type(where + ".id", "a string");
        c.id = id->get<std::string>();
    }
    const json* args = field(*fn, "arguments");
    if (!args) return c;
    if (!args->is_string()) throw wrong_type(where + ".function.arguments", "a string (JSON)");
    try {
        c.arguments = jinja::json_to_value(args->get<std::string>(), where + ".function.arguments");
    } catch (const Error& e) {
        throw bad_request("invalid_value", e.what());
    }
    return c;
}

json tool_calls_json(const std::vector<ParsedToolCall>& calls, const std::string& request_id, bool delta) {
    json out = json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
        json c = {{"id", call_id(request_id, i)},
                  {"type", "function"},
                  {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
        if (delta) c["index"] = i;
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace kiln::server
