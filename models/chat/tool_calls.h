#pragma once
// Tool calls in the text a model writes, in the formats chat templates teach:
//
//   Hermes  <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>   (Qwen2.5, Qwen3, QwQ,
//           Hermes; several in a row for parallel calls)
//   Llama3  {"name": "f", "parameters": {...}}, optionally after <|python_tag|> (Llama 3.1/3.2;
//           one call per turn)
//   Mistral [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]   (Mistral v0.3, Nemo; the
//           marker is a control token and may not reach the text)
//
// The format is read from the template's source; parse_tool_calls splits a reply into content
// and calls; tool_call_gbnf is the grammar that makes a model write a call (OpenAI's
// tool_choice "required" or a named function).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class ChatTemplate;

enum class ToolCallFormat { Hermes, Llama3, Mistral };
const char* tool_call_format_name(ToolCallFormat f);

// The format the template writes tool calls in, or nullopt when it has none kiln reads.
std::optional<ToolCallFormat> detect_tool_call_format(const ChatTemplate& tmpl);
// Whether the template uses the `tools` variable at all.
bool template_takes_tools(const ChatTemplate& tmpl);

struct ToolDefinition {
    std::string name;
    std::string parameters_schema = "{}";  // JSON Schema of the arguments (JSON text)
};

struct ParsedToolCall {
    std::string name;
    std::string arguments;  // JSON text of an object
};

struct ParsedReply {
    std::string content;  // the text outside the calls (trimmed)
    std::vector<ParsedToolCall> calls;
};

// The calls in `text` to one of `tools` (others, and malformed ones, stay content).
ParsedReply parse_tool_calls(ToolCallFormat format, std::string_view text, const std::vector<ToolDefinition>& tools);

// GBNF for a reply that is only calls (one, or with `parallel` one or more where the format
// allows) to one of `tools`, each with arguments valid against its parameters schema. Throws
// kiln::Error naming the tool whose schema kiln cannot turn into a grammar.
std::string tool_call_gbnf(ToolCallFormat format, const std::vector<ToolDefinition>& tools, bool parallel);

}  // namespace kiln
