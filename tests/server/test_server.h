#pragma once
// A kiln server in the test process: a synthetic qwen2-tiny model (ChatML template, byte-level
// BPE vocabulary), the CPU backend, a Scheduler and an HttpServer on a free loopback port.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/server/embedder.h"
#include "apps/server/http_server.h"
#include "apps/server/metrics.h"
#include "apps/server/scheduler.h"
#include "backends/cpu/cpu_backend.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln::testing {

// The model file, written once per test process.
const std::filesystem::path& server_model_path();

struct TestServerOptions {
    int parallel = 4;
    int n_ctx = 256;
    bool cache_prompt = true;  // Scheduler's reuse_prompts
    std::filesystem::path model;  // empty: server_model_path()
    std::string chat_template;    // template source instead of the model's; empty: the model's
    std::string api_key;
    size_t max_body_bytes = 1 << 20;
    std::chrono::milliseconds header_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};
};

class TestServer {
public:
    explicit TestServer(const TestServerOptions& options = {});
    ~TestServer();

    int port() const { return port_; }
    httplib::Client client() const;
    // POST a JSON body; the response (status 0 when the request failed).
    httplib::Result post(const std::string& path, const std::string& body) const;
    // One of the server's Prometheus numbers (kiln_slots_busy, ...).
    double metric(const std::string& name) const;
    server::Metrics& metrics() { return metrics_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }

private:
    std::unique_ptr<Model> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::unique_ptr<CpuBackend> backend_;
    std::unique_ptr<BatchSession> batch_;
    std::unique_ptr<server::Embedder> embedder_;
    server::Metrics metrics_;
    std::unique_ptr<server::Scheduler> scheduler_;
    std::unique_ptr<server::HttpServer> http_;
    std::thread listener_;
    int port_ = 0;
};

// `kiln serve` as a user runs it: the real binary, started with `args` after "serve" (give
// "--port 0"); the port is read from its banner. The destructor stops it with SIGTERM. Its
// stderr goes to `stderr_file` when one is given.
class ServeProcess {
public:
    explicit ServeProcess(const std::vector<std::string>& args, const std::filesystem::path& stderr_file = {});
    ~ServeProcess();
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    int port() const { return port_; }
    // SIGTERM, then waits up to `seconds`: the exit status (128 + signal when killed), or -1 if
    // it was still running (it is then killed).
    int stop(double seconds = 10);

private:
    int pid_ = 0;
    int port_ = 0;
};

// Runs a shell command: its exit status, and its stdout and stderr in `output`.
int run_shell(const std::string& command, std::string& output);
// Installs an npm package into BUILD/npm-tests (next to the kiln binary, never the source tree)
// on first use. Returns the NODE_PATH that reaches it, or nullopt with `why` set when node or
// the package cannot be had (no node, offline).
std::optional<std::string> npm_package(const std::string& name, std::string& why);

// The node scripts beside this file, run against a server on `port` that serves `model_id`:
// their exit status and output, or nullopt with `why` set when what they need is missing (node,
// the npm package, chromium), for the test to skip with.
struct ScriptRun {
    int status = -1;
    std::string output;
};
// openai_client.cjs: the official `openai` npm package.
std::optional<ScriptRun> run_openai_client(int port, const std::string& model_id, std::string& why);
// web_page.cjs: the chat page in headless chromium (playwright-core); the screenshot goes to
// `screenshot`.
std::optional<ScriptRun> run_web_page(int port, const std::string& model_id, const std::filesystem::path& screenshot,
                                      std::string& why);

// The SSE `data:` payloads of a stream body, in order ("[DONE]" included as is).
std::vector<std::string> sse_payloads(const std::string& body);

}  // namespace kiln::testing
