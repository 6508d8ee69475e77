// Tool calls as the chat templates teach them: the format read from real templates, replies
// split into content and calls, and the grammar that forces a call accepting exactly the calls
// to the given tools with valid arguments.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "grammar/grammar_test_support.h"
#include "graph/error.h"
#include "models/chat/chat_template.h"
#include "models/chat/tool_calls.h"
#include "models/grammar/grammar.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

const std::vector<ToolDefinition> kTools = {
    {"get_weather", R"({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer",
        "minimum": 1, "maximum": 7}}, "required": ["city", "days"], "additionalProperties": false})"},
    {"now", "{}"},
};

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(ToolCalls, FormatsOfRealTemplates) {
    KILN_REQUIRE_SHARED(shared);
    const struct {
        const char* file;
        std::optional<ToolCallFormat> format;
    } cases[] = {
        {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallFormat::Hermes},
        {"Qwen-Qwen3-0.6B.jinja", ToolCallFormat::Hermes},
        {"Qwen-QwQ-32B.jinja", ToolCallFormat::Hermes},
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallFormat::Llama3},
        {"meta-llama-Llama-3.2-3B-Instruct.jinja", ToolCallFormat::Llama3},
        {"mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolCallFormat::Mistral},
        {"google-gemma-2-2b-it.jinja", std::nullopt},
        {"microsoft-Phi-3.5-mini-instruct.jinja", std::nullopt},
    };
    for (const auto& c : cases) {
        const auto path = shared / "templates" / c.file;
        ASSERT_TRUE(std::filesystem::exists(path)) << path;
        const ChatTemplate t = ChatTemplate::parse(read_file(path), c.file);
        EXPECT_EQ(detect_tool_call_format(t), c.format) << c.file;
        EXPECT_EQ(template_takes_tools(t), c.format.has_value()) << c.file;
    }
    EXPECT_FALSE(detect_tool_call_format(ChatTemplate::chatml()));
}

TEST(ToolCalls, HermesRepliesSplitIntoContentAndCalls) {
    const ParsedReply r = parse_tool_calls(ToolCallFormat::Hermes,
                                           "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                           "{\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": "
                                           "\"now\", \"arguments\": {}}\n</tool_call>",
                                           kTools);
    EXPECT_EQ(r.content, "Let me check.");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(r.calls[0].arguments, R"({"city":"Paris","days":2})");
    EXPECT_EQ(r.calls[1].name, "now");
    EXPECT_EQ(r.calls[1].arguments, "{}");

    // An unknown tool or broken JSON stays text; a call cut short at the end still counts.
    const ParsedReply unknown = parse_tool_calls(
        ToolCallFormat::Hermes, "<tool_call>\n{\"name\": \"rm\", \"arguments\": {}}\n</tool_call>", kTools);
    EXPECT_TRUE(unknown.calls.empty());
    EXPECT_NE(unknown.content.find("rm"), std::string::npos);
    EXPECT_TRUE(parse_tool_calls(ToolCallFormat::Hermes, "<tool_call>{not json</tool_call>", kTools).calls.empty());
    const ParsedReply cut = parse_tool_calls(ToolCallFormat::Hermes, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}", kTools);
    ASSERT_EQ(cut.calls.size(), 1u);
    EXPECT_EQ(cut.content, "");
    // Arguments given as a JSON string are read too.
    const ParsedReply str = parse_tool_calls(
        ToolCallFormat::Hermes, R"(<tool_call>{"name": "now", "arguments": "{\"tz\": \"UTC\"}"}</tool_call>)", kTools);
    ASSERT_EQ(str.calls.size(), 1u);
    EXPECT_EQ(str.calls[0].arguments, R"({"tz":"UTC"})");
    EXPECT_EQ(parse_tool_calls(ToolCallFormat::Hermes, "Just text.", kTools).content, "Just text.");
}

TEST(ToolCalls, Llama3AndMistralReplies) {
    ParsedReply r = parse_tool_calls(ToolCallFormat::Llama3,
                                     R"({"name": "get_weather", "parameters": {"city": "Oslo", "days": 1}})", kTools);
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].arguments, R"({"city":"Oslo","days":1})");
    EXPECT_EQ(r.content, "");
    r = parse_tool_calls(ToolCallFormat::Llama3, R"(<|python_tag|>{"name": "now", "parameters": {}})", kTools);
    ASSERT_EQ(r.calls.size(), 1u);
    r = parse_tool_calls(ToolCallFormat::Llama3, R"(The answer is {"name": "now"})", kTools);
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, R"(The answer is {"name": "now"})");

    r = parse_tool_calls(ToolCallFormat::Mistral,
                         R"([TOOL_CALLS][{"name": "now", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Rome", "days": 3}}])",
                         kTools);
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[1].name, "get_weather");
    r = parse_tool_calls(ToolCallFormat::Mistral, R"([{"name": "now", "arguments": {}}])", kTools);  // marker not in the text
    EXPECT_EQ(r.calls.size(), 1u);
    r = parse_tool_calls(ToolCallFormat::Mistral, R"([1, 2, 3])", kTools);
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, "[1, 2, 3]");
}

TEST(ToolCalls, TheGrammarAcceptsExactlyValidCalls) {
    const Grammar hermes = Grammar::parse(tool_call_gbnf(ToolCallFormat::Hermes, kTools, /*parallel=*/true), "tools");
    EXPECT_TRUE(testing::grammar_accepts(hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
                                                 "\"days\": 2}}\n</tool_call>"));
    EXPECT_TRUE(testing::grammar_accepts(hermes, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>\n"
                                                 "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>"));
    EXPECT_FALSE(testing::grammar_accepts(hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
                                                  "\"days\": 9}}\n</tool_call>"));  // days out of range
    EXPECT_FALSE(testing::grammar_accepts(hermes, "<tool_call>\n{\"name\": \"rm\", \"arguments\": {}}\n</tool_call>"));
    EXPECT_FALSE(testing::grammar_accepts(hermes, "Sure!"));
    const Grammar single = Grammar::parse(tool_call_gbnf(ToolCallFormat::Hermes, kTools, false), "tools");
    EXPECT_FALSE(testing::grammar_accepts(single, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>\n"
                                                  "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>"));

    const Grammar llama = Grammar::parse(tool_call_gbnf(ToolCallFormat::Llama3, kTools, true), "tools");
    EXPECT_TRUE(testing::grammar_accepts(llama, R"({"name": "get_weather", "parameters": {"city": "Oslo", "days": 1}})"));
    EXPECT_FALSE(testing::grammar_accepts(llama, R"({"name": "get_weather", "arguments": {"city": "Oslo", "days": 1}})"));
    const Grammar mistral = Grammar::parse(tool_call_gbnf(ToolCallFormat::Mistral, kTools, true), "tools");
    EXPECT_TRUE(testing::grammar_accepts(mistral, R"([{"name": "now", "arguments": {}},{"name": "now", "arguments": {"a": 1}}])"));

    // A tool's $defs are resolved from the combined schema's root.
    const std::vector<ToolDefinition> with_defs = {
        {"pick", R"({"type": "object", "properties": {"c": {"$ref": "#/$defs/color"}}, "required": ["c"],
            "additionalProperties": false, "$defs": {"color": {"enum": ["red", "blue"]}}})"}};
    const Grammar defs = Grammar::parse(tool_call_gbnf(ToolCallFormat::Llama3, with_defs, false), "tools");
    EXPECT_TRUE(testing::grammar_accepts(defs, R"({"name": "pick", "parameters": {"c": "red"}})"));
    EXPECT_FALSE(testing::grammar_accepts(defs, R"({"name": "pick", "parameters": {"c": "green"}})"));

    // A schema kiln cannot follow is an error naming the tool.
    try {
        tool_call_gbnf(ToolCallFormat::Hermes, {{"f", R"({"type": "string", "pattern": "x"})"}}, false);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "tool 'f' parameters: at /: the keyword 'pattern' is not supported") << e.what();
    }
    EXPECT_THROW(tool_call_gbnf(ToolCallFormat::Hermes, {{"f", "[1]"}}, false), Error);
}

}  // namespace
}  // namespace kiln
