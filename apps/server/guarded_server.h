#pragma once
// cpp-httplib's server with every connection read through deadlines and byte budgets.
//
// httplib 0.11.4 (Debian 12) times single reads only (5 s each), so a client sending a byte
// every few seconds held an HTTP thread for as long as it liked, and it buffers request lines,
// headers and chunked bodies without any bound. GuardedServer replaces its per-connection loop
// (the virtual process_and_close_socket, so this relies on 0.11.4's internals; the tests in
// tests/server/hostile_clients_test.cpp fail if another version stops calling it) with one
// that reads through GuardedStream:
//  - a connection may stay idle `keep_alive` before each request's first byte;
//  - from that byte, the request line and headers must arrive within `header_timeout` and
//    total at most `max_head_bytes`; the whole request, body included, within
//    `request_timeout`, its body at most `max_body_wire_bytes` as sent (chunk framing and
//    compression included; the decoded size is the handlers' limit);
//  - a read past any of these fails, current_read_failure() tells the handlers which, and the
//    connection ends after the response (408, 413, 431; a slow request line gets no answer).
// A request whose body may be left partly unread (chunked, no length, a length over the
// limit, a body on GET, a handler that answered without reading it) also ends its connection,
// so the rest of the body is never parsed as the next request.
//
// What stays unbounded: this is still a thread per connection. Each client that connects and
// dribbles holds a thread for at most keep_alive + header_timeout per request (10 s by
// default), so a client that opens (pool size / 10 s) connections a second can still keep
// every thread busy; the pool is sized well above the slots (HttpServer) and the defence
// against floods is a proxy in front with per-address connection limits. Writes are bounded
// per write only (write_timeout), like httplib's. Header-only: http_server.cpp is its one user.
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>

#include <httplib.h>

namespace kiln::server {

struct ConnectionLimits {
    std::chrono::milliseconds keep_alive{5000};        // idle before a request's first byte
    std::chrono::milliseconds header_timeout{5000};    // first byte to the end of the headers
    std::chrono::milliseconds request_timeout{30000};  // first byte to the end of the body
    std::chrono::milliseconds read_timeout{5000};      // silence allowed within a request
    std::chrono::milliseconds write_timeout{5000};     // per write of the response
    size_t max_head_bytes = 64 << 10;                  // request line and headers
    size_t max_body_bytes = 1 << 20;                   // declared Content-Length
    size_t max_body_wire_bytes = (2 << 20) + (64 << 10);  // body bytes as sent
    size_t max_requests = 100;                         // per connection
};

// Why the last read of the request being served on this thread failed.
enum class ReadFailure {
    None,
    Timeout,   // a deadline or the read timeout passed
    TooLarge,  // the head or the body ran past its byte budget
    Stopping,  // the server is stopping
};

namespace detail {

using Clock = std::chrono::steady_clock;

inline int poll_one(int sock, short events, std::chrono::milliseconds timeout) {
    pollfd p{sock, events, 0};
    int r;
    do {
        r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (r < 0 && errno == EINTR);
    return r;
}

inline void endpoint(int sock, bool peer, std::string& ip, int& port) {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    const int rc = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&a), &len)
                        : ::getsockname(sock, reinterpret_cast<sockaddr*>(&a), &len);
    char host[NI_MAXHOST] = "";
    if (rc != 0 || ::getnameinfo(reinterpret_cast<sockaddr*>(&a), len, host, sizeof(host), nullptr, 0,
                                 NI_NUMERICHOST) != 0) {
        return;
    }
    ip = host;
    port = a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                   : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

}  // namespace detail

// The request's Content-Length: 0 when absent, -1 when not plain digits or when several
// disagree (then where the body ends is not known); past 18 digits, the largest long long.
inline long long content_length(const httplib::Request& req) {
    const size_t count = req.get_header_value_count("Content-Length");
    if (count == 0) return 0;
    const std::string v = req.get_header_value("Content-Length");
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return -1;
    for (size_t i = 1; i < count; ++i) {
        if (req.get_header_value("Content-Length", i) != v) return -1;
    }
    return v.size() > 18 ? std::numeric_limits<long long>::max() : std::stoll(v);
}

// One accepted connection. Reads are buffered (httplib reads headers a byte at a time) and
// fail past the current request's deadline or byte budget; the buffer lives as long as the
// connection, so pipelined requests are not lost between requests.
class GuardedStream final : public httplib::Stream {
public:
    GuardedStream(socket_t sock, const ConnectionLimits& limits, const std::atomic<socket_t>& listener)
        : sock_(sock), limits_(limits), listener_(listener) {}

    // Waits up to keep_alive for the next request's first byte and starts its clocks.
    bool next_request() {
        failure_ = ReadFailure::None;
        in_request_ = false;
        headers_done_ = false;
        if (pos_ == len_ && !wait_readable(detail::Clock::now() + limits_.keep_alive)) return false;
        in_request_ = true;
        start_ = detail::Clock::now();
        deadline_ = start_ + std::min(limits_.header_timeout, limits_.request_timeout);
        budget_ = limits_.max_head_bytes;
        return true;
    }

    // The headers are in; what follows is the body. Ends the connection after the response
    // when the body could be left unread whatever the handler does.
    void start_body(const httplib::Request& req) {
        headers_done_ = true;
        deadline_ = start_ + limits_.request_timeout;
        budget_ = limits_.max_body_wire_bytes;
        body_read_ = 0;
        declared_ = content_length(req);
        const bool chunked = req.has_header("Transfer-Encoding");
        // httplib reads a body for these methods only, and without a length until the client
        // closes (DELETE: only with a Content-Length).
        const bool reads_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                                req.method == "DELETE";
        const bool until_close = reads_body && req.method != "DELETE" && !chunked && !req.has_header("Content-Length");
        close_ = chunked || declared_ < 0 || until_close ||
                 (declared_ > 0 && (!reads_body || static_cast<size_t>(declared_) > limits_.max_body_bytes));
    }

    // Whether the connection ends after the response being written: also when the request was
    // refused before its headers were whole, or its declared body was not read to the end
    // (the rest must not be parsed as the next request).
    bool must_close() const {
        const bool body_unread = headers_done_ && declared_ > 0 && body_read_ < static_cast<size_t>(declared_);
        return close_ || failure_ != ReadFailure::None || !headers_done_ || body_unread;
    }
    // Closing now may cut off a client still sending its request (one too slow is not waited for).
    bool cut_short() const {
        return in_request_ && failure_ != ReadFailure::Stopping && failure_ != ReadFailure::Timeout && must_close();
    }
    ReadFailure failure() const { return failure_; }
    detail::Clock::time_point request_start() const { return start_; }  // the current request's first byte

    bool is_readable() const override {
        return pos_ < len_ || detail::poll_one(sock_, POLLIN, limits_.read_timeout) > 0;
    }
    // As httplib's SocketStream: writable in time, and the peer has not closed.
    bool is_writable() const override {
        if (detail::poll_one(sock_, POLLOUT, limits_.write_timeout) <= 0) return false;
        if (detail::poll_one(sock_, POLLIN, std::chrono::milliseconds(0)) == 0) return true;
        char c;
        return ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }

    ssize_t read(char* ptr, size_t size) override {
        if (failure_ != ReadFailure::None) return -1;
        if (budget_ == 0) {
            failure_ = ReadFailure::TooLarge;
            return -1;
        }
        if (pos_ == len_) {
            if (!wait_readable(std::min(deadline_, detail::Clock::now() + limits_.read_timeout))) return -1;
            ssize_t n;
            do {
                n = ::recv(sock_, buf_, sizeof(buf_), 0);
            } while (n < 0 && errno == EINTR);
            if (n <= 0) return n;
            pos_ = 0;
            len_ = static_cast<size_t>(n);
        }
        const size_t n = std::min({size, len_ - pos_, budget_});
        std::memcpy(ptr, buf_ + pos_, n);
        pos_ += n;
        budget_ -= n;
        if (headers_done_) body_read_ += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!is_writable()) return -1;
        ssize_t n;
        do {
            n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        return n;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override { detail::endpoint(sock_, true, ip, port); }
    void get_local_ip_and_port(std::string& ip, int& port) const override { detail::endpoint(sock_, false, ip, port); }
    socket_t socket() const override { return sock_; }

private:
    // Polls in short slices so that a stopping server is noticed promptly.
    bool wait_readable(detail::Clock::time_point deadline) {
        for (;;) {
            if (listener_.load() == INVALID_SOCKET) {
                failure_ = ReadFailure::Stopping;
                return false;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - detail::Clock::now());
            if (left.count() <= 0) {
                failure_ = ReadFailure::Timeout;
                return false;
            }
            const int r = detail::poll_one(sock_, POLLIN, std::min(left, std::chrono::milliseconds(100)));
            if (r > 0) return true;  // data, EOF or an error: recv tells which
            if (r < 0) return false;
        }
    }

    socket_t sock_;
    const ConnectionLimits& limits_;
    const std::atomic<socket_t>& listener_;
    char buf_[4096];
    size_t pos_ = 0, len_ = 0;
    detail::Clock::time_point start_, deadline_;
    size_t budget_ = 0;
    long long declared_ = 0;     // its Content-Length; -1: its end is not known from the headers
    size_t body_read_ = 0;
    bool close_ = false;
    bool in_request_ = false;    // the current request's first byte has arrived
    bool headers_done_ = false;  // and its headers; reads are now its body
    ReadFailure failure_ = ReadFailure::None;
};

namespace detail {
// The connection this thread is serving: handlers run on it, and httplib hands them no stream.
inline thread_local GuardedStream* current_stream = nullptr;
}  // namespace detail

inline ReadFailure current_read_failure() {
    return detail::current_stream ? detail::current_stream->failure() : ReadFailure::None;
}

// When the request being served on this thread began (its first byte); now when unknown.
inline std::chrono::steady_clock::time_point current_request_start() {
    return detail::current_stream ? detail::current_stream->request_start() : std::chrono::steady_clock::now();
}

class GuardedServer final : public httplib::Server {
public:
    // Also sets httplib's keep-alive and timeout settings to `limits`, which its headers and
    // socket options use, and its post-routing handler (do not replace it).
    explicit GuardedServer(const ConnectionLimits& limits) : limits_(limits) {
        using std::chrono::duration_cast;
        using std::chrono::microseconds;
        set_keep_alive_max_count(limits.max_requests);
        set_keep_alive_timeout(duration_cast<std::chrono::seconds>(limits.keep_alive).count());
        set_read_timeout(duration_cast<microseconds>(limits.read_timeout));
        set_write_timeout(duration_cast<microseconds>(limits.write_timeout));
        set_payload_max_length(limits.max_body_bytes);
        // Runs after httplib has chosen between Keep-Alive and Connection: close, just before
        // the headers go out: a connection that will end says so.
        set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
            if (!detail::current_stream || !detail::current_stream->must_close()) return;
            res.headers.erase("Keep-Alive");
            if (res.get_header_value("Connection") != "close") res.set_header("Connection", "close");
        });
    }

    // httplib listens with a backlog of 5 (compiled into Debian's library): connections
    // arriving faster than it accepts then wait for SYN retries, a second or more each.
    // Call after binding; listen() again on the bound socket widens the queue.
    void widen_backlog() {
        const socket_t sock = svr_sock_;
        if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
    }

private:
    bool process_and_close_socket(socket_t sock) override {
        GuardedStream strm(sock, limits_, svr_sock_);
        struct Current {  // what current_read_failure() and the post-routing handler look at
            explicit Current(GuardedStream* s) { detail::current_stream = s; }
            ~Current() { detail::current_stream = nullptr; }
        } current(&strm);
        bool ok = false;
        for (size_t left = limits_.max_requests; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
            if (!strm.next_request()) break;
            bool closed = false;
            ok = process_request(strm, left == 1, closed, [&strm](httplib::Request& req) { strm.start_body(req); });
            if (!ok || closed || strm.must_close()) break;
        }
        if (strm.cut_short()) linger(sock);
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return ok;
    }

    // A client still sending a body we refused sees the response, not a reset, if it stops
    // within half a second: close() with unread input sends RST, which can discard the
    // response on its way.
    static void linger(socket_t sock) {
        ::shutdown(sock, SHUT_WR);
        const auto end = detail::Clock::now() + std::chrono::milliseconds(500);
        char buf[16384];
        for (size_t drained = 0; drained < (1u << 20);) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - detail::Clock::now());
            if (left.count() <= 0 || detail::poll_one(sock, POLLIN, left) <= 0) break;
            const ssize_t n = ::recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
            if (n <= 0) break;
            drained += static_cast<size_t>(n);
        }
    }

    ConnectionLimits limits_;
};

}  // namespace kiln::server
