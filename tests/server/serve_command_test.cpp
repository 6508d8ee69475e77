// `kiln serve` as a user runs it: the real binary on a free port, a request, then SIGTERM ends
// it cleanly (status 0) even with a stream open; bad flags are one line and status 1.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "server/test_server.h"

extern char** environ;

namespace kiln::testing {
namespace {

// Waits up to `seconds` for the child; its exit status, or -1 if it is still running.
int wait_exit(pid_t pid, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
}

TEST(ServeCommand, ServesAndStopsOnSigterm) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string model = server_model_path().string();
    std::vector<std::string> args = {KILN_BINARY, "serve", "-m", model, "--port", "0", "--parallel", "2",
                                     "-c", "4096", "--backend", "cpu", "-t", "2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, KILN_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);

    // "kiln serve: NAME on http://127.0.0.1:PORT/ (...)"
    std::string banner;
    char c;
    while (banner.find('\n') == std::string::npos && read(out[0], &c, 1) == 1) banner += c;
    close(out[0]);
    const size_t colon = banner.find("127.0.0.1:");
    ASSERT_NE(colon, std::string::npos) << banner;
    const int port = std::stoi(banner.substr(colon + 10));

    httplib::Client client("127.0.0.1", port);
    auto r = client.Post("/v1/completions", R"({"prompt":"hello","max_tokens":4,"temperature":0})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(nlohmann::json::parse(r->body)["usage"]["completion_tokens"], 4);

    // A stream still open when the signal comes does not hold the server up.
    std::thread streamer([port] {
        httplib::Client c("127.0.0.1", port);
        c.Post("/v1/completions", R"({"prompt":"hello","max_tokens":4000,"stream":true})", "application/json");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    const int status = wait_exit(pid, 10);
    streamer.join();
    if (status < 0) kill(pid, SIGKILL);
    EXPECT_EQ(status, 0);
}

TEST(ServeCommand, BadFlagsAreOneLine) {
    std::string out;
    EXPECT_EQ(run_shell(std::string(KILN_BINARY) + " serve -m x.gguf --port 70000", out), 1);
    EXPECT_EQ(out, "kiln: kiln serve: option '--port': '70000' is not an integer in [0, 65535]\n");
    out.clear();
    EXPECT_EQ(run_shell(std::string(KILN_BINARY) + " serve --port 0", out), 1);
    EXPECT_EQ(out, "kiln: kiln serve: no model given (-m MODEL.gguf)\n");
    out.clear();
    EXPECT_EQ(run_shell(std::string(KILN_BINARY) + " serve --help", out), 0);
    EXPECT_NE(out.find("--parallel"), std::string::npos) << out;
}

}  // namespace
}  // namespace kiln::testing
