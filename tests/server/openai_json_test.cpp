// Request bodies of OpenAI's completion routes: every field's type and range is checked with an
// error naming it; unknown fields are ignored.
#include <gtest/gtest.h>

#include "apps/server/openai_json.h"

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

TEST(OpenAiJson, ParsesAChatRequest) {
    const auto r = parse_completion_request(
        R"({"model":"x","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],
            "temperature":0,"top_p":0.5,"top_k":3,"min_p":0.1,"max_tokens":7,"stop":["a","b"],"seed":-5,
            "presence_penalty":0.5,"frequency_penalty":-1,"stream":true,"logit_bias":{},"user":"u"})",
        true, SamplerParams{});
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[1].content, "hi there");
    EXPECT_EQ(r.params.sampling.temperature, 0.0f);
    EXPECT_EQ(r.params.sampling.top_p, 0.5f);
    EXPECT_EQ(r.params.sampling.top_k, 3);
    EXPECT_EQ(r.params.sampling.seed, static_cast<uint64_t>(-5));
    EXPECT_EQ(r.params.sampling.frequency_penalty, -1.0f);
    EXPECT_EQ(r.params.max_tokens, 7);
    EXPECT_EQ(r.params.stop, (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(r.stream);
}

TEST(OpenAiJson, DefaultsComeFromTheServer) {
    SamplerParams d;
    d.temperature = 0.25f;
    const auto r = parse_completion_request(R"({"prompt":"x","stop":"\n","max_tokens":null})", false, d);
    EXPECT_EQ(r.prompt, "x");
    EXPECT_EQ(r.params.sampling.temperature, 0.25f);
    EXPECT_EQ(r.params.max_tokens, -1);
    EXPECT_EQ(r.params.stop, std::vector<std::string>{"\n"});
    EXPECT_FALSE(r.stream);
}

TEST(OpenAiJson, RefusesMalformedBodiesWithTheFieldNamed) {
    EXPECT_EQ(error_of("{").code, "invalid_json");
    EXPECT_EQ(error_of("[1]").code, "invalid_json");
    EXPECT_EQ(error_of(std::string(100000, '[')).code, "invalid_json");
    EXPECT_EQ(error_of(R"({})").code, "missing_field");
    EXPECT_EQ(error_of(R"({"messages":"hi"})").code, "invalid_type");
    EXPECT_EQ(error_of(R"({"messages":[]})").code, "invalid_value");
    EXPECT_EQ(error_of(R"({"messages":[{"role":"user"}]})").code, "missing_field");
    EXPECT_EQ(error_of(R"({"messages":[{"role":"wizard","content":"x"}]})").code, "invalid_value");
    EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})").code, "invalid_value");
    const std::string ok = R"("messages":[{"role":"user","content":"x"}])";
    for (const char* field : {R"("temperature":"hot")", R"("max_tokens":2.5)", R"("max_tokens":"9")", R"("stream":1)",
                              R"("stop":[1])", R"("top_k":true)", R"("seed":{})", R"("model":3)"}) {
        const ApiError e = error_of("{" + ok + "," + field + "}");
        EXPECT_EQ(e.status, 400) << field;
        EXPECT_EQ(e.code, "invalid_type") << field;
        const std::string name = std::string(field).substr(1, std::string(field).find('"', 1) - 1);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    for (const char* field : {R"("temperature":-1)", R"("top_p":1.5)", R"("max_tokens":0)", R"("n":17)",
                              R"("max_tokens":1e300)", R"("presence_penalty":3)", R"("stop":[" ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " ", " "])"}) {
        EXPECT_EQ(error_of("{" + ok + "," + field + "}").code, "invalid_value") << field;
    }
    EXPECT_EQ(error_of(R"({"prompt":"x","stop":")" + std::string(257, 'a') + "\"}", false).code, "invalid_value");
    EXPECT_EQ(error_of(R"({"prompt":5})", false).code, "invalid_type");
    EXPECT_EQ(error_of(R"({"prompt":["a","b"]})", false).code, "invalid_type");
}

// Found by tests/fuzz/fuzz_openai_request (corpus/openai_request/crash-role-newline): the
// unknown role was quoted raw, so one holding a newline made a two-line message.
TEST(OpenAiJson, AnUnknownRoleIsQuotedOnOneLine) {
    const ApiError e = error_of(R"({"messages":[{"role":"a\nb","content":"x"}]})");
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(std::string(e.what()), R"(messages[0].role: unknown role "a\nb")");
}

TEST(OpenAiJson, ErrorsHaveOpenAisShape) {
    const std::string j = error_json(ApiError(401, "authentication_error", "invalid_api_key", "wrong \"key\""));
    EXPECT_EQ(j, R"({"error":{"code":"invalid_api_key","message":"wrong \"key\"","type":"authentication_error"}})");
}

}  // namespace
}  // namespace kiln::server
