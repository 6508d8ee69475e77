// Chat-completion content checked against llama.cpp: for the goldens' synthetic models, the
// greedy reply kiln serve gives equals llama-completion's greedy text for the same rendered
// prompt (tests/server/golden/peer_chat.json says how it was made). The test also checks that
// the server renders exactly that prompt, so a template change cannot hide behind the golden.
#include <gtest/gtest.h>

#include <fstream>

#include "models/chat/chat_template.h"
#include "server/test_server.h"
#include "support/shared_dir.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

std::string rstrip_newlines(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

TEST(PeerChat, GreedyRepliesMatchLlamaCpp) {
    KILN_REQUIRE_SHARED(shared);
    std::ifstream in(std::filesystem::path(KILN_SOURCE_DIR) / "tests/server/golden/peer_chat.json");
    ASSERT_TRUE(in);
    const json golden = json::parse(in);

    std::vector<ChatMessage> messages;
    for (const json& m : golden["messages"]) messages.push_back(ChatMessage::text(m["role"], m["content"]));
    ASSERT_EQ(render_chat(ChatTemplate::chatml(), messages), golden["prompt"].get<std::string>());

    for (const auto& [model, reply] : golden["replies"].items()) {
        const std::filesystem::path path = shared / "models" / model;
        ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing from shared/";
        TestServerOptions o;
        o.parallel = 2;
        o.model = path;
        TestServer s(o);
        const json body = {{"messages", golden["messages"]}, {"max_tokens", golden["max_tokens"]}, {"temperature", 0}};
        auto r = s.post("/v1/chat/completions", body.dump());
        ASSERT_TRUE(r && r->status == 200) << model << ": " << (r ? r->body : "");
        const json answer = json::parse(r->body);
        EXPECT_EQ(answer["usage"]["completion_tokens"], golden["max_tokens"]) << model;
        EXPECT_EQ(rstrip_newlines(answer["choices"][0]["message"]["content"]), reply.get<std::string>()) << model;
    }
}

}  // namespace
}  // namespace kiln::testing
