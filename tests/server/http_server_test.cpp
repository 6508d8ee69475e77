// kiln serve's routes, in process over loopback: OpenAI's response and stream shapes, errors in
// OpenAI's shape with the right status, the API key, and a client that leaves mid-stream.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

json parse(const httplib::Result& r) {
    EXPECT_TRUE(r) << "no response";
    return r ? json::parse(r->body) : json();
}

void expect_error(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_EQ(j["error"]["code"], code) << r->body;
}

const std::string kChat = R"({"model":"tiny","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Tell me a story."}],"temperature":0,"max_tokens":12)";

TEST(Server, HealthModelsAndThePage) {
    TestServer s;
    auto health = s.client().Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(json::parse(health->body)["status"], "ok");
    const json models = parse(s.client().Get("/v1/models"));
    EXPECT_EQ(models["object"], "list");
    EXPECT_EQ(models["data"][0]["id"], "tiny");
    auto page = s.client().Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page->body.find("<title>kiln chat</title>"), std::string::npos);
    EXPECT_NE(page->body.find("/v1/chat/completions"), std::string::npos);
    EXPECT_EQ(s.metric("kiln_slots_total"), 4);
}

TEST(Server, OwnsItsPort) {
    TestServer s;
    httplib::Server other;  // cpp-httplib's defaults, SO_REUSEPORT included
    EXPECT_FALSE(other.bind_to_port("127.0.0.1", s.port())) << "two servers share port " << s.port();
}

TEST(Server, ChatCompletionAndItsStreamAgree) {
    TestServer s;
    auto r = s.post("/v1/chat/completions", kChat + "}");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["model"], "tiny");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    const std::string content = j["choices"][0]["message"]["content"];
    EXPECT_FALSE(content.empty());
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 12);
    EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 10);  // the ChatML wrapping counts
    EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 12);

    auto st = s.post("/v1/chat/completions", kChat + R"(,"stream":true})");
    ASSERT_TRUE(st);
    ASSERT_EQ(st->status, 200);
    EXPECT_EQ(st->get_header_value("Content-Type"), "text/event-stream");
    const auto payloads = sse_payloads(st->body);
    ASSERT_GE(payloads.size(), 3u) << st->body;
    EXPECT_EQ(payloads.back(), "[DONE]");
    std::string streamed;
    for (size_t i = 0; i + 1 < payloads.size(); ++i) {
        const json c = json::parse(payloads[i]);
        EXPECT_EQ(c["object"], "chat.completion.chunk");
        EXPECT_EQ(c["id"], json::parse(payloads[0])["id"]);
        const json& delta = c["choices"][0]["delta"];
        if (i == 0) {
            EXPECT_EQ(delta["role"], "assistant");
        }
        if (delta.contains("content")) streamed += delta["content"].get<std::string>();
        const bool last = i + 2 == payloads.size();
        EXPECT_EQ(c.contains("usage"), last) << payloads[i];
        EXPECT_EQ(c["choices"][0]["finish_reason"].is_null(), !last) << payloads[i];
        if (last) {
            EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
            EXPECT_EQ(c["usage"], j["usage"]);
        }
    }
    EXPECT_EQ(streamed, content);
}

TEST(Server, CompletionsAndStopStrings) {
    TestServer s;
    const std::string req = R"({"prompt":"Once upon a time","temperature":0,"max_tokens":16)";
    const json full = parse(s.post("/v1/completions", req + "}"));
    EXPECT_EQ(full["object"], "text_completion");
    const std::string text = full["choices"][0]["text"];
    ASSERT_GE(text.size(), 8u) << text;
    EXPECT_EQ(full["choices"][0]["finish_reason"], "length");

    // A stop string taken from the middle of the greedy text: the answer ends just before it.
    const std::string stop = text.substr(4, 3);
    const size_t at = text.find(stop);
    for (bool stream : {false, true}) {
        auto r = s.post("/v1/completions", req + R"(,"stop":)" + json(stop).dump() + (stream ? R"(,"stream":true})" : "}"));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        std::string got, finish;
        if (stream) {
            for (const std::string& p : sse_payloads(r->body)) {
                if (p == "[DONE]") continue;
                const json c = json::parse(p);
                got += c["choices"][0]["text"].get<std::string>();
                if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
            }
        } else {
            const json j = json::parse(r->body);
            got = j["choices"][0]["text"];
            finish = j["choices"][0]["finish_reason"];
        }
        EXPECT_EQ(got, text.substr(0, at)) << "stream " << stream;
        EXPECT_EQ(finish, "stop");
    }
}

TEST(Server, MalformedRequestsGetOpenAiErrors) {
    TestServerOptions o;
    o.n_ctx = 64;
    o.max_body_bytes = 4096;
    TestServer s(o);
    expect_error(s.post("/v1/chat/completions", "{\"messages\": ["), 400, "invalid_json");
    expect_error(s.post("/v1/chat/completions", "not json at all"), 400, "invalid_json");
    expect_error(s.post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":"3"})"), 400,
                 "invalid_type");
    expect_error(s.post("/v1/chat/completions", R"({"messages":{"role":"user"}})"), 400, "invalid_type");
    expect_error(s.post("/v1/completions", R"({"prompt":["a","b"]})"), 400, "invalid_type");
    expect_error(s.post("/v1/completions", R"({"prompt":""})"), 400, "invalid_value");
    std::string long_prompt;
    for (int i = 0; i < 100; ++i) long_prompt += "word" + std::to_string(i) + " ";
    expect_error(s.post("/v1/completions", json{{"prompt", long_prompt}}.dump()), 400, "context_length_exceeded");
    expect_error(s.post("/v1/completions", json{{"prompt", std::string(5000, 'a')}}.dump()), 413, "request_too_large");
    expect_error(s.client().Get("/v1/nothing"), 404, "not_found");
    // Unknown fields are ignored.
    auto ok = s.post("/v1/chat/completions",
                     R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"frobnicate":{"x":[1]},"logprobs":false})");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    EXPECT_GE(s.metric("kiln_requests_failed_total"), 9);
    EXPECT_EQ(s.metric("kiln_slots_busy"), 0);
}

TEST(Server, ApiKeyGuardsTheV1Routes) {
    TestServerOptions o;
    o.api_key = "sesame";
    TestServer s(o);
    const std::string body = R"({"prompt":"hi","max_tokens":1})";
    expect_error(s.post("/v1/completions", body), 401, "invalid_api_key");
    auto c = s.client();
    c.set_bearer_token_auth("wrong");
    expect_error(c.Post("/v1/completions", body, "application/json"), 401, "invalid_api_key");
    expect_error(c.Get("/v1/models"), 401, "invalid_api_key");
    c.set_bearer_token_auth("sesame");
    auto r = c.Post("/v1/completions", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    auto health = s.client().Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
}

// Waits up to `seconds` for a metric to reach `value`.
bool metric_reaches(const TestServer& s, const std::string& name, double value, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (s.metric(name) == value) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

TEST(Server, AClientLeavingMidStreamFreesItsSlot) {
    TestServerOptions o;
    o.parallel = 2;
    o.n_ctx = 4096;
    TestServer s(o);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = R"({"prompt":"Once upon a time","temperature":0,"max_tokens":4000,"stream":true})";
    req.set_header("Content-Type", "application/json");
    int chunks = 0;
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
    {
        auto c = s.client();
        auto r = c.send(req);
        EXPECT_FALSE(r);  // the receiver ended it
    }
    EXPECT_TRUE(metric_reaches(s, "kiln_slots_busy", 0, 2.0)) << "the slot stays busy";
    EXPECT_EQ(s.metric("kiln_requests_cancelled_total"), 1);
    EXPECT_LT(s.metric("kiln_generated_tokens_total"), 2000) << "the generation ran on";
    // The freed slot serves the next request.
    auto r = s.post("/v1/completions", R"({"prompt":"again","max_tokens":3})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST(Server, StopsPromptlyWithAStreamOpen) {
    TestServerOptions o;
    o.parallel = 1;
    o.n_ctx = 4096;
    auto s = std::make_unique<TestServer>(o);
    std::thread client([&] {
        auto c = s->client();
        c.Post("/v1/completions", R"({"prompt":"Once","temperature":0,"max_tokens":4000,"stream":true})", "application/json");
    });
    ASSERT_TRUE(metric_reaches(*s, "kiln_slots_busy", 1, 5.0));
    const auto t0 = std::chrono::steady_clock::now();
    s.reset();
    client.join();
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 3.0);
}

}  // namespace
}  // namespace kiln::testing
