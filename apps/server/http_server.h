#pragma once
// The HTTP side of `kiln serve` (cpp-httplib): OpenAI's routes over a Scheduler, /health,
// /metrics, and the chat page at /. Every request's errors are caught and answered in OpenAI's
// error shape; nothing a client sends ends the server.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "apps/server/metrics.h"
#include "apps/server/scheduler.h"
#include "apps/server/server_options.h"
#include "models/chat/chat_template.h"
#include "models/session/sampler.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kiln {
class Tokenizer;
}

namespace kiln::server {

struct CompletionRequest;
class GuardedServer;
class RequestLog;
class Embedder;

// What the routes need to know about the model being served.
struct ServedModel {
    std::string name;             // the id in /v1/models and in responses
    const Tokenizer* tokenizer = nullptr;
    ChatTemplate chat_template = ChatTemplate::chatml();
    ChatOptions chat_options;     // bos/eos texts
    SamplerParams sampling;       // defaults for fields a request leaves out
    Embedder* embedder = nullptr; // /v1/embeddings (must outlive the server); null: 501
};

class HttpServer {
public:
    // `scheduler` and `metrics` must outlive the server. Ignores SIGPIPE for the process: a
    // client that leaves mid-write must not kill the server.
    HttpServer(ServedModel model, Scheduler& scheduler, Metrics& metrics, const ServerOptions& options);
    ~HttpServer();

    // Binds the listening socket (options.port, or any free port when 0) and returns the port.
    // Throws kiln::Error when the address cannot be bound.
    int bind();
    // Serves until stop(); call after bind().
    void listen();
    // Ends listen(): open streams end with a final chunk (finish_reason "stop") and [DONE],
    // requests still waiting are cancelled. Thread-safe.
    void stop();

private:
    void routes();
    void body_routes();  // the routes that read a request body, and every other one that has one
    void completion(const std::string& body, httplib::Response& res, bool chat);
    // Routes answering one JSON body or throwing ApiError (token_routes.cpp).
    std::string tokenize(const std::string& body) const;
    std::string detokenize(const std::string& body) const;
    std::string embeddings(const std::string& body);
    std::vector<int32_t> prompt_tokens(const CompletionRequest& request) const;

    ServedModel model_;
    Scheduler& scheduler_;
    Metrics& metrics_;
    ServerOptions options_;
    int64_t created_ = 0;
    std::atomic<uint64_t> next_id_{1};
    std::atomic<bool> stopping_{false};
    std::atomic<int> open_streams_{0};  // streams that have not ended (stop() waits a moment)
    std::unique_ptr<GuardedServer> http_;
    std::unique_ptr<RequestLog> log_;  // options_.request_log, a line per request
};

}  // namespace kiln::server
