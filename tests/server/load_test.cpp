// A bounded load test: 8 concurrent clients, 20 requests each, over 4 slots (so requests queue).
// Every answer is complete and equal to the same request's greedy answer when it ran alone; no
// slot is left busy; the server's memory returns near its level before the load.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

constexpr int kClients = 8;
constexpr int kRequests = 20;
constexpr int kTokens = 8;

std::string request_body(int client, int request) {
    const bool chat = (client + request) % 2 == 0;
    const std::string text = "Story " + std::to_string(client) + " part " + std::to_string(request) + ": the fox";
    json j = {{"temperature", 0}, {"max_tokens", kTokens}};
    if (chat) {
        j["messages"] = json::array({{{"role", "user"}, {"content", text}}});
    } else {
        j["prompt"] = text;
    }
    if (request % 3 == 1) j["stream"] = true;
    return j.dump();
}

// The answer's text and finish reason, from a plain or a streamed response.
std::string answer(const std::string& path, const httplib::Result& r) {
    if (!r || r->status != 200) return "<failed: " + (r ? r->body : std::string("no response")) + ">";
    const bool chat = path == "/v1/chat/completions";
    if (r->get_header_value("Content-Type") != "text/event-stream") {
        const json j = json::parse(r->body);
        const json& c = j["choices"][0];
        return (chat ? c["message"]["content"].get<std::string>() : c["text"].get<std::string>()) + "|" +
               c["finish_reason"].get<std::string>() + "|" + std::to_string(j["usage"]["completion_tokens"].get<int>());
    }
    std::string text, tail;
    for (const std::string& p : sse_payloads(r->body)) {
        if (p == "[DONE]") {
            tail += "[DONE]";
            continue;
        }
        const json c = json::parse(p);
        const json& ch = c["choices"][0];
        if (chat && ch["delta"].contains("content")) text += ch["delta"]["content"].get<std::string>();
        if (!chat) text += ch["text"].get<std::string>();
        if (c.contains("usage")) {
            tail = "|" + ch["finish_reason"].get<std::string>() + "|" +
                   std::to_string(c["usage"]["completion_tokens"].get<int>());
        }
    }
    return tail.size() > 6 && tail.substr(tail.size() - 6) == "[DONE]" ? text + tail.substr(0, tail.size() - 6)
                                                                       : "<stream without [DONE]>";
}

// An answer that ran to the token limit, or to an end-of-generation token before it.
bool complete(const std::string& a) {
    const std::string limit = "|length|" + std::to_string(kTokens);
    if (a.size() >= limit.size() && a.compare(a.size() - limit.size(), limit.size(), limit) == 0) return true;
    const size_t at = a.rfind("|stop|");
    if (at == std::string::npos) return false;
    const std::string n = a.substr(at + 6);
    return !n.empty() && n.find_first_not_of("0123456789") == std::string::npos && std::stoi(n) >= 1 && std::stoi(n) <= kTokens;
}

std::string path_of(int client, int request) {
    return (client + request) % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
}

TEST(ServerLoad, ConcurrentClientsGetTheirSequentialGreedyAnswers) {
    TestServerOptions o;
    o.parallel = 4;
    o.n_ctx = 128;
    TestServer s(o);

    std::vector<std::vector<std::string>> alone(kClients, std::vector<std::string>(kRequests));
    for (int c = 0; c < kClients; ++c) {
        for (int q = 0; q < kRequests; ++q) alone[c][q] = answer(path_of(c, q), s.post(path_of(c, q), request_body(c, q)));
    }
    auto run_concurrently = [&] {
        std::vector<std::vector<std::string>> got(kClients, std::vector<std::string>(kRequests));
        std::vector<std::thread> clients;
        for (int c = 0; c < kClients; ++c) {
            clients.emplace_back([&, c] {
                for (int q = 0; q < kRequests; ++q) got[c][q] = answer(path_of(c, q), s.post(path_of(c, q), request_body(c, q)));
            });
        }
        for (auto& t : clients) t.join();
        return got;
    };
    run_concurrently();  // warm-up: every slot's graphs built, every HTTP thread started
    const long rss_before = rss_kib();
    const double steps_before = s.metric("kiln_decode_steps_total");
    const auto got = run_concurrently();
    const long rss_after = rss_kib();

    for (int c = 0; c < kClients; ++c) {
        for (int q = 0; q < kRequests; ++q) {
            EXPECT_EQ(got[c][q], alone[c][q]) << "client " << c << " request " << q;
            EXPECT_TRUE(complete(alone[c][q])) << alone[c][q];
        }
    }
    // Batching happened: 40 requests of 8 tokens took far fewer than 40 * 7 decode steps.
    EXPECT_LT(s.metric("kiln_decode_steps_total") - steps_before, kClients * kRequests * (kTokens - 1) * 0.6);
    EXPECT_EQ(s.metric("kiln_slots_busy"), 0);
    EXPECT_EQ(s.metric("kiln_queue_length"), 0);
    EXPECT_EQ(s.metric("kiln_requests_cancelled_total"), 0);
    EXPECT_LT(rss_after - rss_before, 16 * 1024) << "RSS grew from " << rss_before << " to " << rss_after << " KiB";
}

}  // namespace
}  // namespace kiln::testing
