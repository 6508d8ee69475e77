// logprobs on both endpoints, streamed and not: the model's log-probabilities as the library
// computes them, the tokens' texts adding up to the reply, and the same in a stream as whole.
#include <gtest/gtest.h>

#include <cmath>

#include "models/session/logprobs.h"
#include "models/session/session.h"
#include "server/test_server.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

json post_ok(const TestServer& server, const std::string& path, const json& body) {
    auto r = server.post(path, body.dump());
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
}

// The `data:` payloads of a streamed response, less [DONE].
std::vector<json> stream_chunks(const TestServer& server, const std::string& path, json body) {
    body["stream"] = true;
    auto r = server.post(path, body.dump());
    EXPECT_TRUE(r && r->status == 200);
    std::vector<json> chunks;
    if (!r) return chunks;
    for (size_t at = 0; (at = r->body.find("data: ", at)) != std::string::npos;) {
        const size_t end = r->body.find("\n\n", at);
        const std::string payload = r->body.substr(at + 6, end - at - 6);
        if (payload != "[DONE]") chunks.push_back(json::parse(payload));
        at = end;
    }
    return chunks;
}

TEST(Logprobs, CompletionsMatchTheLibraryAndSpellTheText) {
    TestServer server;
    const std::string prompt = "Once upon a time";
    const json r = post_ok(server, "/v1/completions",
                           {{"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}, {"logprobs", 3}});
    const json& choice = r["choices"][0];
    const json& lp = choice["logprobs"];
    ASSERT_TRUE(lp.is_object()) << r.dump();
    ASSERT_EQ(lp["tokens"].size(), 12u);
    // A token that is part of a UTF-8 character reaches JSON as U+FFFD (the completions shape has
    // no bytes), so the offsets and the text are checked only when every token is whole text.
    bool whole = true;
    for (const json& t : lp["tokens"]) whole = whole && t.get<std::string>().find("\xEF\xBF\xBD") == std::string::npos;
    std::string joined;
    for (size_t i = 0; i < 12; ++i) {
        if (whole) {
            EXPECT_EQ(lp["text_offset"][i], joined.size());
        }
        joined += lp["tokens"][i].get<std::string>();
        const float chosen = lp["token_logprobs"][i];
        EXPECT_LE(chosen, 0.0f);
        const json& top = lp["top_logprobs"][i];
        EXPECT_LE(top.size(), 3u);
        EXPECT_GE(top.size(), 1u);
        float best = -1e30f;
        for (const auto& [text, value] : top.items()) best = std::max(best, value.get<float>());
        EXPECT_FLOAT_EQ(chosen, best) << i;  // greedy takes the likeliest
    }
    if (whole) {
        EXPECT_EQ(joined, choice["text"].get<std::string>());
    }

    // The first token's numbers are the library's for the prompt.
    const Model model = Model::load(server_model_path());
    CpuBackend cpu(CpuOptions{1, detect_batch_invariant_cpu_isa()});
    SessionOptions so;
    so.n_ctx = 256;
    Session session(model, cpu, so);
    const std::vector<int32_t> ids = server.tokenizer().encode(prompt, true, false);
    const std::span<const float> logits = session.decode(ids);
    int32_t argmax = 0;
    for (int32_t i = 1; i < static_cast<int32_t>(logits.size()); ++i) argmax = logits[i] > logits[argmax] ? i : argmax;
    const TokenLogprobs expected = token_logprobs(logits, argmax, 3);
    EXPECT_EQ(lp["tokens"][0], server.tokenizer().token_to_piece(argmax, true));
    EXPECT_NEAR(lp["token_logprobs"][0].get<float>(), expected.chosen.logprob, 1e-3);
    for (const TokenLogprob& t : expected.top) {
        const std::string text = server.tokenizer().token_to_piece(t.id, true);
        ASSERT_TRUE(lp["top_logprobs"][0].contains(text)) << text;
        EXPECT_NEAR(lp["top_logprobs"][0][text].get<float>(), t.logprob, 1e-3) << text;
    }

    const json plain = post_ok(server, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 2}});
    EXPECT_TRUE(plain["choices"][0]["logprobs"].is_null());
}

TEST(Logprobs, ChatContentWholeAndStreamedAgree) {
    TestServer server;
    const json body = {{"messages", {{{"role", "user"}, {"content", "Tell me about cats"}}}},
                       {"max_tokens", 16},
                       {"temperature", 0},
                       {"logprobs", true},
                       {"top_logprobs", 2}};
    const json whole = post_ok(server, "/v1/chat/completions", body);
    const json& content = whole["choices"][0]["logprobs"]["content"];
    ASSERT_TRUE(content.is_array()) << whole.dump();
    ASSERT_GT(content.size(), 0u);
    std::string joined;
    for (const json& t : content) {
        const std::string text = t["token"];
        std::string bytes;
        for (const json& b : t["bytes"]) bytes += static_cast<char>(b.get<int>());
        EXPECT_EQ(bytes, text);
        joined += bytes;
        ASSERT_EQ(t["top_logprobs"].size(), 2u);
        EXPECT_GE(t["top_logprobs"][0]["logprob"].get<float>(), t["top_logprobs"][1]["logprob"].get<float>());
        EXPECT_FLOAT_EQ(t["logprob"].get<float>(), t["top_logprobs"][0]["logprob"].get<float>());
    }
    EXPECT_EQ(joined, whole["choices"][0]["message"]["content"].get<std::string>());

    json streamed = json::array();
    for (const json& chunk : stream_chunks(server, "/v1/chat/completions", body)) {
        const json& lp = chunk["choices"][0]["logprobs"];
        ASSERT_TRUE(lp.is_object()) << chunk.dump();
        for (const json& t : lp["content"]) streamed.push_back(t);
    }
    EXPECT_EQ(streamed, content);

    const json none = post_ok(server, "/v1/chat/completions",
                              {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}});
    EXPECT_TRUE(none["choices"][0]["logprobs"].is_null());
}

}  // namespace
}  // namespace kiln::testing
