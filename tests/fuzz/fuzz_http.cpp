// The HTTP layer of `kiln serve`, in process: an HttpServer (GuardedServer, the OpenAI routes,
// a Scheduler over a minimal synthetic qwen2 model on one CPU thread, an API key) listens on a
// loopback port; each input is sent as the raw bytes of one connection, which is then
// half-closed, and the whole answer read. Anything the server does wrong on any of its threads
// (a sanitizer report, an uncaught exception) ends the process, and the fuzzer keeps the input.
// A connection still open 20 s after the client finished sending is reported as a hang: the
// server must answer or close once the client's bytes have all arrived.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "apps/server/http_server.h"
#include "apps/server/metrics.h"
#include "apps/server/scheduler.h"
#include "backends/cpu/cpu_backend.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "models/session/conversation.h"
#include "models/synth/synthetic.h"
#include "models/tokenizer/tokenizer.h"

namespace {

// The key the committed seeds send; requests without it stop at 401.
constexpr const char* kApiKey = "fuzz-key";

class InProcessServer {
public:
    InProcessServer() {
        const std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("kiln-fuzz-http-" + std::to_string(::getpid()) + ".gguf");
        // qwen2-tiny's vocabulary and template, with the smallest matrices: a request that
        // generates costs about as much as one that is refused, so the fuzzer stays fast.
        kiln::SynthOptions o;
        o.shape = *kiln::synth_shape("qwen2-tiny");
        o.shape.n_embd = 32;
        o.shape.n_layer = 1;
        o.shape.n_head = 2;
        o.shape.n_head_kv = 1;
        o.shape.n_ff = 64;
        o.shape.n_vocab = 300;
        o.dtype = kiln::DType::F32;
        o.seed = 5;
        o.threads = 1;
        kiln::write_synthetic_model(path, o);
        model_ = std::make_unique<kiln::Model>(kiln::Model::load(path));
        std::filesystem::remove(path);  // the mapping keeps the bytes
        tokenizer_ = std::make_unique<kiln::Tokenizer>(kiln::Tokenizer::from_gguf(model_->file()));
        backend_ = std::make_unique<kiln::CpuBackend>(kiln::CpuOptions{1, std::nullopt});
        kiln::BatchOptions bo;
        bo.n_slots = 2;
        bo.n_ctx = 128;  // bounds what one accepted request can cost
        batch_ = std::make_unique<kiln::BatchSession>(*model_, *backend_, bo);
        scheduler_ = std::make_unique<kiln::server::Scheduler>(*batch_, *tokenizer_, metrics_);
        kiln::server::ServedModel served;
        served.name = "tiny";
        served.tokenizer = tokenizer_.get();
        if (auto t = kiln::Conversation::model_template(model_->file())) served.chat_template = *t;
        served.chat_options = kiln::Conversation::default_options(*tokenizer_);
        kiln::server::ServerOptions so;
        so.port = 0;
        so.parallel = 2;
        so.api_key = kApiKey;
        so.max_body_bytes = 64 << 10;
        http_ = std::make_unique<kiln::server::HttpServer>(served, *scheduler_, metrics_, so);
        port_ = http_->bind();
        listener_ = std::thread([this] { http_->listen(); });
    }
    // Never destroyed: libFuzzer exits without unwinding, and the threads serve until then.

    int port() const { return port_; }

private:
    std::unique_ptr<kiln::Model> model_;
    std::unique_ptr<kiln::Tokenizer> tokenizer_;
    std::unique_ptr<kiln::CpuBackend> backend_;
    std::unique_ptr<kiln::BatchSession> batch_;
    kiln::server::Metrics metrics_;
    std::unique_ptr<kiln::server::Scheduler> scheduler_;
    std::unique_ptr<kiln::server::HttpServer> http_;
    std::thread listener_;
    int port_ = 0;
};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_http: %s\n", what);
    std::abort();
}

int connect_to(int port) {
    // listen() starts accepting on its own thread: retry briefly on the first inputs.
    for (int attempt = 0; attempt < 500; ++attempt) {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) fail("socket() failed");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) return s;
        ::close(s);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fail("cannot connect to the in-process server");
}

// Sends everything, half-closes, reads to EOF. The server may close early (413, 431): a
// failed send is then expected.
void exchange(int s, const uint8_t* data, size_t size) {
    for (size_t sent = 0; sent < size;) {
        const ssize_t n = ::send(s, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    ::shutdown(s, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    char buf[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) fail("the server neither answered nor closed within 20 s of the request's end");
        pollfd p{s, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        // Acknowledge at once: httplib writes headers and body separately without TCP_NODELAY,
        // so a delayed ACK would hold the body back for tens of milliseconds (Nagle).
        const int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        const ssize_t n = ::recv(s, buf, sizeof(buf), 0);
        if (n <= 0) break;  // EOF, or a reset after an early close
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static InProcessServer* server = new InProcessServer();
    const int s = connect_to(server->port());
    exchange(s, data, size);
    // Reset instead of TIME_WAIT: a million connections would run out of local ports.
    const linger no_linger{1, 0};
    ::setsockopt(s, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
    ::close(s);
    return 0;
}
