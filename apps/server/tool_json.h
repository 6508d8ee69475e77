#pragma once
// OpenAI's function calling on the wire: `tools`, `tool_choice` and `parallel_tool_calls` in a
// chat request, `tool_calls` in assistant messages (sent back by the client) and in replies.
// Internal to apps/server (nlohmann::json in the interface).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/server/json_fields.h"
#include "apps/server/openai_json.h"
#include "models/chat/chat_template.h"
#include "models/chat/tool_calls.h"

namespace kiln::server {

// Throws ApiError (400) naming the field: a tool without a valid name, parameters that are not
// an object, a tool_choice naming no given tool, and so on. `body_text` is the body as sent,
// to keep the tools' key order.
ToolRequest parse_tool_request(const nlohmann::json& body, BodyAsWritten& as_written);

// An assistant message's `tool_calls[i]` ({id, type: "function", function: {name, arguments:
// JSON text}}) as the template sees it.
ChatToolCall parse_message_tool_call(const nlohmann::json& call, const std::string& where);

// A reply's `tool_calls` (or a stream delta's, with "index"): ids are 9 letters and digits
// (what Mistral's templates insist on when the calls come back), unique per request.
nlohmann::json tool_calls_json(const std::vector<ParsedToolCall>& calls, const std::string& request_id, bool delta);

}  // namespace kiln::server
