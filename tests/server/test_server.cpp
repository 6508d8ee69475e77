#include "server/test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "graph/error.h"
#include "models/session/conversation.h"
#include "support/temp_model.h"

extern char** environ;

namespace kiln::testing {

const std::filesystem::path& server_model_path() {
    static const TempModel file("serve", "qwen2-tiny", DType::Q8_0, 5);
    return file.path();
}

TestServer::TestServer(const TestServerOptions& options) {
    model_ = std::make_unique<Model>(Model::load(options.model.empty() ? server_model_path() : options.model));
    tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(model_->file()));
    // The server tests compare answers across batching and the prompt cache, so every token must
    // get the same arithmetic in any batch (not so for AMX prompt tiles; see cpu_features.h).
    backend_ = std::make_unique<CpuBackend>(CpuOptions{2, detect_batch_invariant_cpu_isa()});
    BatchOptions bo;
    bo.n_slots = options.parallel;
    bo.n_ctx = options.n_ctx;
    batch_ = std::make_unique<BatchSession>(*model_, *backend_, bo);
    scheduler_ = std::make_unique<server::Scheduler>(*batch_, *tokenizer_, metrics_, options.cache_prompt);
    server::ServedModel served;
    served.name = "tiny";
    served.tokenizer = tokenizer_.get();
    if (!options.chat_template.empty()) {
        served.chat_template = ChatTemplate::parse(options.chat_template, "test template");
    } else if (auto tmpl = Conversation::model_template(model_->file())) {
        served.chat_template = *tmpl;
    }
    served.chat_options = Conversation::default_options(*tokenizer_);
    SessionOptions eo;
    eo.n_ctx = options.n_ctx;
    embedder_ = std::make_unique<server::Embedder>(*model_, *backend_, eo);
    served.embedder = embedder_.get();
    server::ServerOptions so;
    so.port = 0;
    so.parallel = options.parallel;
    so.api_key = options.api_key;
    so.max_body_bytes = options.max_body_bytes;
    so.header_timeout = options.header_timeout;
    so.request_timeout = options.request_timeout;
    http_ = std::make_unique<server::HttpServer>(served, *scheduler_, metrics_, so);
    port_ = http_->bind();
    listener_ = std::thread([this] { http_->listen(); });
    // listen() starts accepting asynchronously; wait until /health answers.
    for (int i = 0; i < 200; ++i) {
        auto r = client().Get("/health");
        if (r && r->status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw Error("the test server did not answer /health");
}

TestServer::~TestServer() {
    http_->stop();
    listener_.join();
    scheduler_->stop();
}

httplib::Client TestServer::client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
}

httplib::Result TestServer::post(const std::string& path, const std::string& body) const {
    return client().Post(path.c_str(), body, "application/json");
}

double TestServer::metric(const std::string& name) const {
    auto r = client().Get("/metrics");
    if (!r || r->status != 200) throw Error("GET /metrics failed");
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    throw Error("no metric " + name);
}

ServeProcess::ServeProcess(const std::vector<std::string>& args, const std::filesystem::path& stderr_file) {
    int out[2];
    if (pipe(out) != 0) throw Error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (!stderr_file.empty()) {
        posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> all = {KILN_BINARY, "serve"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, KILN_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        throw Error("cannot start " + std::string(KILN_BINARY));
    }
    pid_ = pid;
    // "kiln serve: NAME on http://127.0.0.1:PORT/ (...)"
    std::string banner;
    char c;
    while (banner.find('\n') == std::string::npos && read(out[0], &c, 1) == 1) banner += c;
    close(out[0]);
    const size_t at = banner.find("127.0.0.1:");
    if (at == std::string::npos) {
        stop();
        throw Error("kiln serve did not start: " + banner);
    }
    port_ = std::stoi(banner.substr(at + 10));
}

ServeProcess::~ServeProcess() {
    if (pid_) stop();
}

int ServeProcess::stop(double seconds) {
    if (!pid_) return -1;
    kill(pid_, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int result = -1;
    while (std::chrono::steady_clock::now() < end) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (result < 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    pid_ = 0;
    return result;
}

int run_shell(const std::string& command, std::string& output) {
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) output.append(buf.data(), n);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<std::string> npm_package(const std::string& name, std::string& why) {
    std::string out;
    if (run_shell("node --version", out) != 0) {
        why = "node is not installed";
        return std::nullopt;
    }
    const auto prefix = std::filesystem::path(KILN_BINARY).parent_path() / "npm-tests";
    std::filesystem::create_directories(prefix);
    // ctest runs test processes side by side: one installs while the others wait on the lock,
    // so none sees a half-installed package (package.json is written before the rest).
    const int lock = ::open((prefix / ".install.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        if (lock >= 0) ::close(lock);
        why = "cannot lock " + (prefix / ".install.lock").string();
        return std::nullopt;
    }
    const auto installed = prefix / "node_modules" / name / ".kiln-installed";
    bool ok = std::filesystem::exists(installed);
    if (!ok) {
        out.clear();
        const std::string cmd = "timeout 300 npm install --prefix '" + prefix.string() +
                                "' --no-audit --no-fund --loglevel=error " + name;
        ok = run_shell(cmd, out) == 0;
        if (ok) std::ofstream(installed) << "installed by kiln's tests\n";
        else why = "cannot install the npm package " + name + " (offline?): " + out;
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    if (!ok) return std::nullopt;
    return (prefix / "node_modules").string();
}

std::optional<ScriptRun> run_openai_client(int port, const std::string& model_id, std::string& why) {
    const auto node_path = npm_package("openai", why);
    if (!node_path) return std::nullopt;
    ScriptRun r;
    r.status = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                             "/tests/server/openai_client.cjs' http://127.0.0.1:" + std::to_string(port) + "/v1 '" +
                             model_id + "'",
                         r.output);
    return r;
}

std::optional<ScriptRun> run_web_page(int port, const std::string& model_id, const std::filesystem::path& screenshot,
                                      std::string& why) {
    const char* chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) {
        why = std::string("no ") + chromium + " (apt-get install chromium)";
        return std::nullopt;
    }
    const auto node_path = npm_package("playwright-core", why);
    if (!node_path) return std::nullopt;
    std::filesystem::create_directories(screenshot.parent_path());
    std::filesystem::remove(screenshot);
    ScriptRun r;
    r.status = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                             "/tests/server/web_page.cjs' http://127.0.0.1:" + std::to_string(port) + "/ " + chromium +
                             " '" + screenshot.string() + "' '" + model_id + "'",
                         r.output);
    return r;
}

std::vector<std::string> sse_payloads(const std::string& body) {
    std::vector<std::string> out;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
    }
    return out;
}

}  // namespace kiln::testing
