// kiln serve against clients that try to exhaust it, over raw loopback sockets (httplib's client
// will not send such requests): bodies past --max-body in forms whose size is not declared
// (chunked, gzip, no length), endless headers, and clients that dribble a byte at a time. The
// server is in this process, so its memory is this process's peak RSS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A TCP connection to 127.0.0.1:port. Sends give up after 2 s, so a server that stops reading
// cannot hang a test.
class RawSocket {
public:
    explicit RawSocket(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        timeval tv{2, 0};
        setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect() failed");
        }
    }
    ~RawSocket() { ::close(fd_); }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    // False once the server has closed the connection (or stopped reading for 2 s).
    bool send_all(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }
    bool readable(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, timeout_ms) > 0;
    }
    // Reads until one whole response (headers and Content-Length bytes) has arrived, the
    // server closes, or `timeout_ms` passes; `closed` tells whether the server closed.
    std::string read_response(int timeout_ms, bool* closed = nullptr) {
        const auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
        std::string got;
        char buf[4096];
        while (!complete(got)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
            if (left <= 0 || !readable(static_cast<int>(left))) break;
            const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
            if (n <= 0) {
                if (closed) *closed = true;
                break;
            }
            got.append(buf, static_cast<size_t>(n));
        }
        return got;
    }
    // Waits up to `timeout_ms` (0: only looks) for the server to close the connection,
    // discarding what it sends first.
    bool closed_within(int timeout_ms) {
        const auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
        char buf[4096];
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
            if (!readable(static_cast<int>(std::max<int64_t>(0, left)))) return false;
            if (::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT) <= 0) return true;
        }
    }
    int fd() const { return fd_; }

private:
    static bool complete(const std::string& r) {
        const size_t head = r.find("\r\n\r\n");
        if (head == std::string::npos) return false;
        const size_t at = r.find("Content-Length: ");
        const size_t length = at < head ? std::stoul(r.substr(at + 16)) : 0;
        return r.size() >= head + 4 + length;
    }
    int fd_ = -1;
};

int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
}

// The process's peak resident memory since the last reset_peak_rss(), in KiB.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }
long peak_rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

enum class Framing { Chunked, UntilClose };

// Sends `head` (request line and headers), then streams up to `total` bytes of body in 64 KiB
// pieces until the server answers; returns the response.
std::string stream_body(int port, const std::string& head, Framing framing, size_t total) {
    RawSocket s(port);
    if (!s.send_all(head)) return "";
    const size_t piece = 64 << 10;
    std::string data(piece, ' ');
    if (framing == Framing::Chunked) data = "10000\r\n" + data + "\r\n";
    size_t sent = 0;
    while (sent < total && !s.readable(0) && s.send_all(data)) sent += piece;
    if (sent >= total && framing == Framing::Chunked) s.send_all("0\r\n\r\n");
    if (sent >= total && framing == Framing::UntilClose) ::shutdown(s.fd(), SHUT_WR);
    return s.read_response(5000);
}

std::string post_head(const std::string& path, const std::string& extra) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra + "\r\n";
}

void expect_openai_error(const std::string& response, int status, const std::string& code) {
    EXPECT_EQ(status_of(response), status) << response.substr(0, 300);
    const size_t body = response.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << response;
    const auto j = nlohmann::json::parse(response.substr(body + 4), nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << response;
    EXPECT_EQ(j["error"]["code"], code) << response;
}

constexpr size_t kHuge = 64 << 20;  // what a hostile client streams: 64 MiB
// Growth of peak RSS a refused 64 MiB body may cause: a quarter of it, so buffering it fails the
// test. (8 MiB was exceeded by 72 KiB once under ASan with the whole suite running beside it.)
constexpr long kRssSlackKib = 16 << 10;

TEST(HostileClients, ChunkedBodiesPastTheLimitGet413WithoutBeingBuffered) {
    TestServer s;  // --max-body 1 MiB
    for (const std::string path : {"/health", "/v1/chat/completions", "/v1/completions", "/nowhere"}) {
        const long before = (reset_peak_rss(), peak_rss_kib());
        const auto t0 = Clock::now();
        const std::string r =
            stream_body(s.port(), post_head(path, "Transfer-Encoding: chunked\r\n"), Framing::Chunked, kHuge);
        expect_openai_error(r, 413, "request_too_large");
        EXPECT_LT(seconds_since(t0), 3.0) << path;
        EXPECT_LT(peak_rss_kib() - before, kRssSlackKib) << path << ": the body was buffered";
    }
    // A chunked body under the limit is still served.
    RawSocket c(s.port());
    const std::string body = R"({"prompt":"hi","max_tokens":2})";
    std::ostringstream chunk;
    chunk << std::hex << body.size() << "\r\n" << body << "\r\n0\r\n\r\n";
    ASSERT_TRUE(c.send_all(post_head("/v1/completions", "Transfer-Encoding: chunked\r\n") + chunk.str()));
    const std::string ok = c.read_response(10000);
    EXPECT_EQ(status_of(ok), 200) << ok;
}

TEST(HostileClients, BodiesWithoutALengthOrCompressedPastTheLimitGet413) {
    TestServer s;
    long before = (reset_peak_rss(), peak_rss_kib());
    // No Content-Length and no Transfer-Encoding: httplib reads until the client closes.
    expect_openai_error(stream_body(s.port(), post_head("/v1/completions", ""), Framing::UntilClose, kHuge), 413,
                        "request_too_large");
    EXPECT_LT(peak_rss_kib() - before, kRssSlackKib) << "the body was buffered";

    // 64 MiB of spaces gzip to about 64 KiB: under the limit on the wire, far over it inflated.
    std::string bomb;
    {
        httplib::detail::gzip_compressor gz;
        const std::string piece(1 << 20, ' ');
        for (size_t i = 0; i < kHuge / piece.size(); ++i) {
            gz.compress(piece.data(), piece.size(), i + 1 == kHuge / piece.size(), [&](const char* d, size_t n) {
                bomb.append(d, n);
                return true;
            });
        }
    }
    ASSERT_LT(bomb.size(), size_t{1} << 20);
    before = (reset_peak_rss(), peak_rss_kib());
    RawSocket c(s.port());
    ASSERT_TRUE(c.send_all(post_head("/v1/chat/completions", "Content-Encoding: gzip\r\nContent-Length: " +
                                                                 std::to_string(bomb.size()) + "\r\n") +
                           bomb));
    expect_openai_error(c.read_response(5000), 413, "request_too_large");
    EXPECT_LT(peak_rss_kib() - before, kRssSlackKib) << "the inflated body was buffered";
}

TEST(HostileClients, AnUnauthenticatedBodyIsNotRead) {
    TestServerOptions o;
    o.api_key = "sesame";
    TestServer s(o);
    const long before = (reset_peak_rss(), peak_rss_kib());
    const auto t0 = Clock::now();
    const std::string chunked = "Transfer-Encoding: chunked\r\n";
    const std::string r = stream_body(s.port(), post_head("/v1/chat/completions", chunked), Framing::Chunked, kHuge);
    expect_openai_error(r, 401, "invalid_api_key");
    EXPECT_LT(seconds_since(t0), 3.0);
    EXPECT_LT(peak_rss_kib() - before, kRssSlackKib) << "the body was buffered";
    const std::string authorized = "Authorization: Bearer sesame\r\n";
    expect_openai_error(
        stream_body(s.port(), post_head("/v1/chat/completions", authorized + chunked), Framing::Chunked, kHuge), 413,
        "request_too_large");
    // A client that asks before sending (Expect: 100-continue) is refused without a 100.
    RawSocket c(s.port());
    ASSERT_TRUE(c.send_all(
        post_head("/v1/chat/completions", authorized + "Expect: 100-continue\r\nContent-Length: 67108864\r\n")));
    expect_openai_error(c.read_response(2000), 413, "request_too_large");
}

TEST(HostileClients, EndlessHeadersAreCutOff) {
    TestServer s;
    const long before = (reset_peak_rss(), peak_rss_kib());
    RawSocket c(s.port());
    c.send_all("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ");
    const std::string filler(64 << 10, 'a');
    for (size_t sent = 0; sent < (32u << 20) && !c.readable(0) && c.send_all(filler);) sent += filler.size();
    const std::string r = c.read_response(3000);
    EXPECT_TRUE(r.empty() || status_of(r) == 431) << r.substr(0, 300);
    EXPECT_TRUE(c.closed_within(3000)) << "the server kept reading the headers";
    EXPECT_LT(peak_rss_kib() - before, kRssSlackKib) << "the headers were buffered";
}

TEST(HostileClients, SlowHeadersDoNotStarveTheServer) {
    TestServerOptions o;
    o.header_timeout = std::chrono::milliseconds(2000);
    TestServer s(o);
    const std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n";
    constexpr int kClients = 24;
    std::vector<std::unique_ptr<RawSocket>> slow;
    const auto c0 = Clock::now();
    for (int i = 0; i < kClients; ++i) slow.push_back(std::make_unique<RawSocket>(s.port()));
    // httplib's listen backlog of 5 alone made the later connects wait for SYN retries.
    EXPECT_LT(seconds_since(c0), 0.5) << "connecting " << kClients << " clients at once";
    std::vector<double> cut_at(kClients, -1);
    const auto t0 = Clock::now();
    // One byte per client each second for 4 s: the 2 s header deadline must end every one.
    for (size_t sent = 0; sent < 4; ++sent) {
        for (int i = 0; i < kClients; ++i) {
            if (cut_at[i] < 0 && !slow[i]->send_all(request.substr(sent, 1))) cut_at[i] = seconds_since(t0);
        }
        if (sent == 1) {
            httplib::Client c("127.0.0.1", s.port());
            c.set_connection_timeout(2, 0);
            c.set_read_timeout(2, 0);
            const auto h0 = Clock::now();
            auto r = c.Get("/health");
            EXPECT_TRUE(r && r->status == 200) << "GET /health failed beside " << kClients << " slow clients";
            EXPECT_LT(seconds_since(h0), 2.0);
        }
        const auto next = t0 + std::chrono::seconds(sent + 1);
        while (Clock::now() < next) {
            for (int i = 0; i < kClients; ++i) {
                if (cut_at[i] < 0 && slow[i]->closed_within(0)) cut_at[i] = seconds_since(t0);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    for (int i = 0; i < kClients; ++i) {
        EXPECT_GE(cut_at[i], 0) << "slow client " << i << " is still connected after " << seconds_since(t0) << " s";
        EXPECT_LT(cut_at[i], 3.5) << "slow client " << i;
    }
}

TEST(HostileClients, ASlowBodyGets408) {
    TestServerOptions o;
    o.header_timeout = std::chrono::milliseconds(1000);
    o.request_timeout = std::chrono::milliseconds(1500);
    TestServer s(o);
    RawSocket c(s.port());
    ASSERT_TRUE(c.send_all(post_head("/v1/completions", "Content-Length: 100\r\n")));
    const auto t0 = Clock::now();
    std::string r;
    for (int i = 0; i < 6 && r.empty(); ++i) {
        c.send_all("{");
        r = c.read_response(500);
    }
    expect_openai_error(r, 408, "request_timeout");
    EXPECT_LT(seconds_since(t0), 2.5);
    auto health = s.client().Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace kiln::testing
