// `n` > 1: several choices per request, each generated in its own slot, whole and streamed.
// A given seed gives choice i the seed + i, so choice i is what a single request with that
// seed answers.
#include <gtest/gtest.h>

#include <map>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

json body(int n, uint64_t seed, bool stream = false) {
    return {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 1.0}, {"seed", seed}, {"n", n},
            {"stream", stream}};
}

json post_ok(const TestServer& s, const json& b) {
    auto r = s.post("/v1/completions", b.dump());
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "");
    return r && r->status == 200 ? json::parse(r->body) : json();
}

TEST(Choices, EachChoiceIsASingleRequestWithItsSeed) {
    TestServerOptions o;
    o.parallel = 2;  // three choices: one waits for a slot
    TestServer s(o);
    const json many = post_ok(s, body(3, 40));
    ASSERT_EQ(many["choices"].size(), 3u);
    int completion = 0;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(many["choices"][i]["index"], i);
        const json one = post_ok(s, body(1, 40 + i));
        EXPECT_EQ(many["choices"][i]["text"], one["choices"][0]["text"]) << i;
        completion += one["usage"]["completion_tokens"].get<int>();
    }
    EXPECT_NE(many["choices"][0]["text"], many["choices"][1]["text"]);
    EXPECT_EQ(many["usage"]["completion_tokens"], completion);
    EXPECT_EQ(many["usage"]["prompt_tokens"], post_ok(s, body(1, 1))["usage"]["prompt_tokens"]);  // counted once
}

TEST(Choices, StreamedChoicesInterleaveAndEachEnds) {
    TestServer s;
    const json whole = post_ok(s, body(3, 7));
    auto r = s.post("/v1/completions", body(3, 7, /*stream=*/true).dump());
    ASSERT_TRUE(r && r->status == 200);
    std::map<int, std::string> text;
    std::map<int, int> finishes;
    json usage;
    int chunks = 0;
    for (size_t at = 0; (at = r->body.find("data: {", at)) != std::string::npos; ++at) {
        const json chunk = json::parse(r->body.substr(at + 6, r->body.find("\n\n", at) - at - 6));
        ASSERT_EQ(chunk["choices"].size(), 1u);
        const json& c = chunk["choices"][0];
        const int index = c["index"];
        text[index] += c["text"].get<std::string>();
        if (c["finish_reason"].is_string()) ++finishes[index];
        if (chunk.contains("usage")) usage = chunk["usage"];
        ++chunks;
    }
    EXPECT_GT(chunks, 6);
    EXPECT_EQ(r->body.substr(r->body.size() - 14), "data: [DONE]\n\n");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(text[i], whole["choices"][i]["text"]) << i;
        EXPECT_EQ(finishes[i], 1) << i;
    }
    EXPECT_EQ(usage, whole["usage"]);
}

}  // namespace
}  // namespace kiln::testing
