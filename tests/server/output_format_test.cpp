// response_format / grammar / json_schema in request bodies: compiled at parse time (a bad one
// is a 400 naming the field), and fields kiln does not implement refused, never ignored.
#include <gtest/gtest.h>

#include "apps/server/openai_json.h"
#include "grammar/grammar_test_support.h"
#include "models/grammar/grammar.h"

namespace kiln::server {
namespace {

ApiError error_of(const std::string& body, bool chat = true) {
    try {
        parse_completion_request(body, chat, SamplerParams{});
    } catch (const ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << body;
    return ApiError(0, "", "", "");
}

const std::string kMessages = R"("messages": [{"role": "user", "content": "hi"}])";

TEST(OutputFormat, JsonObjectAndJsonSchemaBecomeGrammars) {
    const auto plain = parse_completion_request("{" + kMessages + R"(, "response_format": {"type": "text"}})", true, {});
    EXPECT_EQ(plain.params.grammar, nullptr);
    const auto object = parse_completion_request("{" + kMessages + R"(, "response_format": {"type": "json_object"}})", true, {});
    ASSERT_NE(object.params.grammar, nullptr);
    EXPECT_TRUE(testing::grammar_accepts(*object.params.grammar, R"({"a": 1})"));
    EXPECT_FALSE(testing::grammar_accepts(*object.params.grammar, "[1]"));

    // Properties come out in the order the client wrote them, not sorted.
    const auto schema = parse_completion_request("{" + kMessages + R"(, "response_format": {"type": "json_schema",
        "json_schema": {"name": "x", "strict": true, "schema": {"type": "object", "properties": {"zeta": {"type": "integer"},
        "alpha": {"type": "boolean"}}, "required": ["zeta", "alpha"], "additionalProperties": false}}}})", true, {});
    ASSERT_NE(schema.params.grammar, nullptr);
    EXPECT_TRUE(testing::grammar_accepts(*schema.params.grammar, R"({"zeta": 1, "alpha": true})"));
    EXPECT_FALSE(testing::grammar_accepts(*schema.params.grammar, R"({"alpha": true, "zeta": 1})"));

    const auto gbnf = parse_completion_request(R"({"prompt": "x", "grammar": "root ::= \"yes\" | \"no\""})", false, {});
    ASSERT_NE(gbnf.params.grammar, nullptr);
    EXPECT_TRUE(testing::grammar_accepts(*gbnf.params.grammar, "no"));
    const auto llama_schema = parse_completion_request(R"({"prompt": "x", "json_schema": {"type": "boolean"}})", false, {});
    ASSERT_NE(llama_schema.params.grammar, nullptr);
    EXPECT_TRUE(testing::grammar_accepts(*llama_schema.params.grammar, "false"));
}

TEST(OutputFormat, BadFormatsAndUnsupportedFieldsAre400sNamingTheField) {
    struct Case {
        std::string body;
        const char* code;
        const char* message;
    };
    const std::string m = "{" + kMessages + ", ";
    const Case cases[] = {
        {m + R"("response_format": "json"})", "invalid_type", "'response_format' must be an object"},
        {m + R"("response_format": {"type": "xml"}})", "invalid_value", "'response_format.type' 'xml' is not one of"},
        {m + R"("response_format": {"type": "json_schema"}})", "invalid_type", "'response_format.json_schema' must be an object"},
        {m + R"("response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})", "missing_field",
         "'response_format.json_schema.schema' is required"},
        {m + R"("response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "string", "pattern": "a+"}}}})",
         "invalid_value", "response_format.json_schema.schema: at /: the keyword 'pattern' is not supported"},
        {m + R"("grammar": "root ::= x"})", "invalid_value", "grammar:1:10: rule 'x' is used but not defined"},
        {m + R"("grammar": "root ::= \"a\"", "response_format": {"type": "json_object"}})", "invalid_value",
         "give one of 'response_format', 'grammar' and 'json_schema'"},
        {m + R"("logprobs": 1})", "invalid_type", "'logprobs' must be a boolean"},
        {m + R"("top_logprobs": 3})", "invalid_value", "'top_logprobs' needs 'logprobs': true"},
        {m + R"("logprobs": true, "top_logprobs": 21})", "invalid_value", "'top_logprobs' must be between 0 and 20"},
        {m + R"("tool_choice": "required"})", "invalid_value", "'tool_choice' 'required' needs 'tools'"},
        {m + R"("tools": {"f": 1}})", "invalid_type", "'tools' must be an array"},
        {m + R"("tools": [{"type": "function", "function": {"name": "a b"}}]})", "invalid_value",
         "tools[0].function.name must be 1-64 letters"},
        {m + R"("tools": [{"type": "code", "function": {"name": "f"}}]})", "invalid_value", "tools[0].type must be"},
        {m + R"("tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]})",
         "invalid_value", "tools[1]: a second function named 'f'"},
        {m + R"("tools": [{"type": "function", "function": {"name": "f", "parameters": [1]}}]})", "invalid_type",
         "'tools[0].function.parameters' must be an object"},
        {m + R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}})",
         "invalid_value", "'tool_choice' names 'g', which is not in 'tools'"},
        {m + R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "always"})", "invalid_value",
         "'tool_choice' must be none, auto, required or a function"},
        {m + R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required", "response_format": {"type": "json_object"}})",
         "invalid_value", "a required tool call and 'response_format'"},
        {"{" + kMessages + R"(, "messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "x", "type": "function",
         "function": {"name": "f", "arguments": "{not json"}}]}]})", "invalid_value", "messages[0].tool_calls[0].function.arguments: not JSON"},
    };
    for (const Case& c : cases) {
        const ApiError e = error_of(c.body);
        EXPECT_EQ(e.status, 400) << c.body;
        EXPECT_EQ(e.code, c.code) << c.body << " -> " << e.what();
        EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
    const ApiError legacy = error_of(R"({"prompt": "x", "logprobs": 21})", false);
    EXPECT_NE(std::string(legacy.what()).find("'logprobs' must be between 0 and 20"), std::string::npos) << legacy.what();
    const ApiError legacy_tools = error_of(R"({"prompt": "x", "tools": []})", false);
    EXPECT_EQ(legacy_tools.code, "unsupported_value");
    // Tools parse into what the server needs; choice defaults to auto with tools.
    const auto tools = parse_completion_request(m + R"("tools": [{"type": "function", "function": {"name": "f",
        "parameters": {"type": "object", "properties": {"z": {"type": "string"}, "a": {"type": "integer"}}}}}],
        "parallel_tool_calls": false})", true, {});
    ASSERT_EQ(tools.tools.tools.size(), 1u);
    EXPECT_EQ(tools.tools.choice, ToolRequest::Choice::Auto);
    EXPECT_FALSE(tools.tools.parallel);
    EXPECT_LT(tools.tools.tools[0].parameters_schema.find("\"z\""), tools.tools.tools[0].parameters_schema.find("\"a\""));
    const auto back = parse_completion_request(R"({"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "abc",
        "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]}, {"role": "tool", "tool_call_id": "abc",
        "content": "42"}]})", true, {});
    ASSERT_EQ(back.messages.size(), 2u);
    ASSERT_EQ(back.messages[0].tool_calls.size(), 1u);
    EXPECT_EQ(back.messages[0].tool_calls[0].id, "abc");
    EXPECT_EQ(back.messages[1].tool_call_id.value_or(""), "abc");
    // What asks for nothing is fine: no tools, tool_choice none, logprobs false.
    const auto none = parse_completion_request(m + R"("tools": [], "tool_choice": "none", "logprobs": false})", true, {});
    EXPECT_EQ(none.params.logprobs, -1);
    EXPECT_EQ(parse_completion_request(m + R"("logprobs": true})", true, {}).params.logprobs, 0);
    EXPECT_EQ(parse_completion_request(m + R"("logprobs": true, "top_logprobs": 5})", true, {}).params.logprobs, 5);
    EXPECT_EQ(parse_completion_request(R"({"prompt": "x", "logprobs": 0})", false, {}).params.logprobs, 0);
    EXPECT_EQ(parse_completion_request(R"({"prompt": "x", "logprobs": 3})", false, {}).params.logprobs, 3);
    EXPECT_EQ(parse_completion_request(R"({"prompt": "x"})", false, {}).params.logprobs, -1);
}

}  // namespace
}  // namespace kiln::server
