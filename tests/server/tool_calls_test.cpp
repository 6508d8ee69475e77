// Tool calls on a live server with Qwen2.5's chat template (Hermes format): a required call is
// a well-formed tool_calls entry, streamed and whole; auto leaves plain text alone; a template
// without tools is a 400. (The openai npm client checks the same with ajv in
// structured_output.cjs.)
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/test_server.h"
#include "support/shared_dir.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

const json kTools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
    "properties": {"city": {"type": "string", "maxLength": 12}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"], "additionalProperties": false}}}])");

json ask(const std::string& choice, bool stream = false) {
    return {{"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}},
            {"tools", kTools},
            {"tool_choice", choice},
            {"seed", 3},
            {"temperature", 1},
            {"max_tokens", 400},
            {"parallel_tool_calls", false},  // one call: the random model would go on adding calls
            {"stream", stream}};
}

void expect_weather_call(const json& call) {
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["id"].get<std::string>().size(), 9u);
    EXPECT_EQ(call["function"]["name"], "get_weather");
    const json args = json::parse(call["function"]["arguments"].get<std::string>());
    ASSERT_TRUE(args.is_object());
    ASSERT_TRUE(args["city"].is_string());
    size_t chars = 0;  // maxLength counts characters, not bytes
    for (const unsigned char c : args["city"].get<std::string>()) chars += (c & 0xC0) != 0x80;
    EXPECT_LE(chars, 12u);
    ASSERT_TRUE(args["days"].is_number_integer());
    EXPECT_GE(args["days"].get<int>(), 1);
    EXPECT_LE(args["days"].get<int>(), 7);
    EXPECT_EQ(args.size(), 2u);
}

TEST(ToolCallsServer, RequiredCallsAreWellFormedWholeAndStreamed) {
    KILN_REQUIRE_SHARED_FILE(path, "templates/Qwen-Qwen2.5-7B-Instruct.jinja");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    TestServerOptions o;
    o.n_ctx = 1024;
    o.chat_template = text.str();
    TestServer s(o);

    auto r = s.post("/v1/chat/completions", ask("required").dump());
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
    const json whole = json::parse(r->body)["choices"][0];
    EXPECT_EQ(whole["finish_reason"], "tool_calls");
    EXPECT_TRUE(whole["message"]["content"].is_null());
    ASSERT_EQ(whole["message"]["tool_calls"].size(), 1u);
    for (const json& call : whole["message"]["tool_calls"]) expect_weather_call(call);

    auto st = s.post("/v1/chat/completions", ask("required", /*stream=*/true).dump());
    ASSERT_TRUE(st && st->status == 200);
    json calls = json::array();
    std::string finish;
    for (size_t at = 0; (at = st->body.find("data: {", at)) != std::string::npos; ++at) {
        const json chunk = json::parse(st->body.substr(at + 6, st->body.find("\n\n", at) - at - 6));
        const json& c = chunk["choices"][0];
        if (c["delta"].contains("tool_calls")) {
            for (const json& d : c["delta"]["tool_calls"]) calls.push_back(d);
        }
        if (c["finish_reason"].is_string()) finish = c["finish_reason"];
    }
    EXPECT_EQ(finish, "tool_calls");
    ASSERT_EQ(calls.size(), whole["message"]["tool_calls"].size());
    for (size_t i = 0; i < calls.size(); ++i) {
        EXPECT_EQ(calls[i]["index"], i);
        EXPECT_EQ(calls[i]["function"], whole["message"]["tool_calls"][i]["function"]);
    }

    // auto: the random model writes no call, and its text comes back as content.
    auto plain = s.post("/v1/chat/completions", ask("auto").dump());
    ASSERT_TRUE(plain && plain->status == 200);
    const json p = json::parse(plain->body)["choices"][0];
    EXPECT_FALSE(p["message"].contains("tool_calls"));
    EXPECT_TRUE(p["message"]["content"].is_string());
    EXPECT_NE(p["finish_reason"], "tool_calls");
}

TEST(ToolCallsServer, ATemplateWithoutToolsIsA400) {
    TestServer s;  // the synthetic model's ChatML template
    auto r = s.post("/v1/chat/completions", ask("auto").dump());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("the model's chat template takes no tools"), std::string::npos) << r->body;
    // tool_choice none: the tools are not used, so nothing is refused.
    auto none = s.post("/v1/chat/completions", ask("none").dump());
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 200) << none->body;
}

}  // namespace
}  // namespace kiln::testing
