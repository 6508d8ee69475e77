// kiln serve's line per request on stderr, and the final chunk a stream open at shutdown gets
// (issue 16, item 5).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "apps/server/request_log.h"
#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(RequestLog, LineShape) {
    server::RequestLogEntry e;
    e.method = "POST";
    e.path = "/v1/chat/completions";
    e.status = 200;
    e.prompt_tokens = 18;
    e.completion_tokens = 32;
    e.ms = 411.6;
    EXPECT_EQ(server::request_log_line(e), "kiln serve: POST /v1/chat/completions 200 18+32 tokens 412 ms\n");
    e.prompt_tokens = e.completion_tokens = -1;
    e.path = "/health";
    e.method = "GET";
    e.ms = 0.2;
    EXPECT_EQ(server::request_log_line(e), "kiln serve: GET /health 200 0 ms\n");
}

TEST(RequestLog, WhatTheClientSentCannotBreakTheLine) {
    server::RequestLogEntry e;
    e.method = "GET";
    e.path = "/a\nkiln serve: forged\r\x1b[2J\xc3\xa9" + std::string(300, 'x');
    e.status = 404;
    const std::string line = server::request_log_line(e);
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_LT(line.size(), 260u);
    EXPECT_NE(line.find("/a?kiln serve: forged??[2J??xxx"), std::string::npos) << line;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(ServeCommand, LogsEveryRequestAndEndsOpenStreamsWithAFinalChunk) {
    const auto log = std::filesystem::temp_directory_path() / ("kiln-serve-log-" + std::to_string(::getpid()) + ".txt");
    ServeProcess serve({"-m", server_model_path().string(), "--port", "0", "--parallel", "2", "-c", "4096",
                        "--backend", "cpu", "-t", "2"},
                       log);
    httplib::Client client("127.0.0.1", serve.port());
    auto r = client.Post("/v1/completions", R"({"prompt":"hello","max_tokens":4,"temperature":0})", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const int prompt_tokens = nlohmann::json::parse(r->body)["usage"]["prompt_tokens"];
    ASSERT_TRUE(client.Get("/health"));
    auto missing = client.Get("/no/such/route");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);

    // A stream still open when SIGTERM comes ends with finish_reason and [DONE].
    std::mutex mutex;
    std::string body;
    std::atomic<bool> streaming{false};
    std::thread streamer([&] {
        httplib::Client c("127.0.0.1", serve.port());
        c.set_read_timeout(30, 0);
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/chat/completions";
        req.body = R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":4000,"temperature":0,"stream":true})";
        req.set_header("Content-Type", "application/json");
        req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
            std::lock_guard<std::mutex> lock(mutex);
            body.append(data, n);
            streaming.store(true);
            return true;
        };
        c.send(req);
    });
    for (int i = 0; i < 500 && !streaming.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(streaming.load()) << "the stream sent nothing";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(serve.stop(), 0);
    streamer.join();

    const std::vector<std::string> payloads = sse_payloads(body);
    ASSERT_GE(payloads.size(), 2u) << body;
    EXPECT_EQ(payloads.back(), "[DONE]") << body;
    const nlohmann::json last = nlohmann::json::parse(payloads[payloads.size() - 2]);
    EXPECT_EQ(last["choices"][0]["finish_reason"], "stop") << last.dump();
    EXPECT_GT(last["usage"]["completion_tokens"].get<int>(), 0) << last.dump();
    EXPECT_LT(last["usage"]["completion_tokens"].get<int>(), 4000) << last.dump();

    const std::string text = read_file(log);
    std::filesystem::remove(log);
    EXPECT_NE(text.find("kiln serve: POST /v1/completions 200 " + std::to_string(prompt_tokens) + "+4 tokens "),
              std::string::npos)
        << text;
    EXPECT_TRUE(std::regex_search(text, std::regex("kiln serve: GET /health 200 [0-9]+ ms\n"))) << text;
    EXPECT_TRUE(std::regex_search(text, std::regex("kiln serve: GET /no/such/route 404 [0-9]+ ms\n"))) << text;
    const std::string streamed = "kiln serve: POST /v1/chat/completions 200 " +
                                 std::to_string(last["usage"]["prompt_tokens"].get<int>()) + "+" +
                                 std::to_string(last["usage"]["completion_tokens"].get<int>()) + " tokens ";
    EXPECT_NE(text.find(streamed), std::string::npos) << streamed << "\n" << text;
}

}  // namespace
}  // namespace kiln::testing
