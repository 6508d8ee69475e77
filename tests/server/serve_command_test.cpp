// `kiln serve` as a user runs it: the real binary on a free port, a request, then SIGTERM ends
// it cleanly (status 0) even with a stream open; bad flags are one line and status 1.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(ServeCommand, ServesAndStopsOnSigterm) {
    ServeProcess serve({"-m", server_model_path().string(), "--port", "0", "--parallel", "2", "-c", "4096",
                        "--backend", "cpu", "-t", "2"});
    const int port = serve.port();
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
    const int status = serve.stop();
    streamer.join();
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
