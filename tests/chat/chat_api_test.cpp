// The chat API kiln's commands use: messages and options in, prompt text out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/json_value.h"
#include "models/chat/chat_template.h"
#include "models/chat/json.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(ChatApi, ChatMLFallback) {
    ChatTemplate t = ChatTemplate::chatml();
    std::vector<ChatMessage> messages{ChatMessage::text("system", "Be brief."), ChatMessage::text("user", "Hi")};
    EXPECT_EQ(render_chat(t, messages),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    ChatOptions no_prompt;
    no_prompt.add_generation_prompt = false;
    EXPECT_EQ(render_chat(t, {ChatMessage::text("user", "Hi")}, no_prompt), "<|im_start|>user\nHi<|im_end|>\n");
    EXPECT_EQ(render_chat(t, {}), "<|im_start|>assistant\n");
}

TEST(ChatApi, MessagesCarryOnlyTheFieldsThatAreSet) {
    ChatTemplate t = ChatTemplate::parse(
        "{% for m in messages %}{{ m|tojson }}|{{ 'tool_calls' in m }}|{{ m.reasoning_content is defined }}\n"
        "{% endfor %}",
        "fields");
    ChatMessage call;
    call.role = "assistant";
    call.content = std::nullopt;
    call.tool_calls.push_back({"id1", "f", test::parse_json(R"({"x": 1})")});
    ChatMessage thought = ChatMessage::text("assistant", "A");
    thought.reasoning_content = "R";
    EXPECT_EQ(render_chat(t, {ChatMessage::text("user", "Q"), call, thought}),
              "{\"role\": \"user\", \"content\": \"Q\"}|False|False\n"
              "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"id1\", \"type\": \"function\", "
              "\"function\": {\"name\": \"f\", \"arguments\": {\"x\": 1}}}]}|True|False\n"
              "{\"role\": \"assistant\", \"content\": \"A\", \"reasoning_content\": \"R\"}|False|True\n");
}

TEST(ChatApi, OptionsBecomeTemplateVariables) {
    ChatTemplate t = ChatTemplate::parse(
        "{{ bos_token is defined }}{{ bos_token }}|{{ eos_token }}|{{ enable_thinking is defined }}|{{ tools is none }}"
        "|{{ documents is none }}|{{ add_generation_prompt }}|{{ custom }}|{{ strftime_now('%Y-%m-%d') }}",
        "vars");
    ChatOptions o;
    EXPECT_EQ(render_chat(t, {}, o).rfind("False||False|True|True|True||", 0), 0u);  // then today's date
    o.bos_token = "<s>";
    o.eos_token = "</s>";
    o.enable_thinking = false;
    o.tools = test::parse_json(R"([{"type": "function"}])");
    o.extra.emplace_back("custom", jinja::Value("c"));
    std::tm date{};
    date.tm_year = 2026 - 1900;
    date.tm_mon = 10;
    date.tm_mday = 22;
    o.date = date;
    EXPECT_EQ(render_chat(t, {}, o), "True<s>|</s>|True|False|True|True|c|2026-11-22");
}

TEST(ChatApi, ToolCallsThroughRealTemplates) {
    KILN_REQUIRE_SHARED(shared);
    // Expected strings rendered by transformers' conventions with Jinja2 3.1.6.
    ChatTemplate qwen25 = ChatTemplate::parse(read_file(shared / "templates" / "Qwen-Qwen2.5-7B-Instruct.jinja"), "qwen2.5");
    ChatMessage call;
    call.role = "assistant";
    call.content = std::nullopt;
    call.tool_calls.push_back({"call1", "get_weather", test::parse_json(R"({"city": "Paris"})")});
    ChatMessage result = ChatMessage::text("tool", "21 C");
    result.tool_call_id = "call1";
    ChatOptions o;
    o.tools = test::parse_json(
        R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
    EXPECT_EQ(render_chat(qwen25, {ChatMessage::text("user", "Weather in Paris?"), call, result}, o),
              "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou "
              "may call one or more functions to assist with the user query.\n\nYou are provided with function "
              "signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": "
              "\"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": "
              "\"string\"}}}}}\n</tools>\n\nFor each function call, return a json object with function name and "
              "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
              "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in "
              "Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
              "{\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n21 "
              "C\n</tool_response><|im_end|>\n<|im_start|>assistant\n");

    ChatTemplate qwen3 = ChatTemplate::parse(read_file(shared / "templates" / "Qwen-Qwen3-0.6B.jinja"), "qwen3");
    ChatMessage answer = ChatMessage::text("assistant", "A");
    answer.reasoning_content = "because";
    ChatOptions no_prompt;
    no_prompt.add_generation_prompt = false;
    EXPECT_EQ(render_chat(qwen3, {ChatMessage::text("user", "Q"), answer}, no_prompt),
              "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nbecause\n</think>\n\nA<|im_end|>\n");
}

TEST(ChatApi, JsonRoundTrip) {
    jinja::Value v = test::parse_json(R"({"a": [1, -2.5e3, true, null, "\u00fc\ud83e\udd99\n"], "b": {}})");
    EXPECT_EQ(jinja::to_json(v), "{\"a\": [1, -2500.0, true, null, \"ü🦙\\n\"], \"b\": {}}");
}

}  // namespace
}  // namespace kiln
