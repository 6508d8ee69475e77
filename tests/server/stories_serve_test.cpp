// `kiln serve -m ../shared/models/stories260K.gguf`, the real binary as a user starts it: it tells
// llama.cpp's greedy story (../shared/golden/stories260K.p1.json), answers the official openai
// npm client and streams to the chat page in headless chromium (the same scripts as the
// in-process server's tests). Skips, saying why, without shared/, node packages or chromium.
#include <gtest/gtest.h>

#include <fstream>

#include "server/test_server.h"
#include "support/shared_dir.h"

namespace kiln::testing {
namespace {

class StoriesServe : public ::testing::Test {
protected:
    void SetUp() override {
        KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
        shared_ = model_root;
        serve_ = std::make_unique<ServeProcess>(std::vector<std::string>{
            "-m", model.string(), "--port", "0", "--parallel", "2", "-c", "2048", "--backend", "cpu", "-t", "2"});
    }
    std::filesystem::path shared_;
    std::unique_ptr<ServeProcess> serve_;
};

TEST_F(StoriesServe, TellsLlamaCppsGreedyStory) {
    std::ifstream in(shared_ / "golden" / "stories260K.p1.json");
    ASSERT_TRUE(in) << "missing golden/stories260K.p1.json";
    const auto golden = nlohmann::json::parse(in);
    const nlohmann::json request = {{"prompt", golden["prompt"]},
                                    {"max_tokens", golden["gen_ids"].size()},
                                    {"temperature", 0}};
    httplib::Client client("127.0.0.1", serve_->port());
    auto r = client.Post("/v1/completions", request.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["text"], golden["text"]);
    EXPECT_EQ(j["usage"]["prompt_tokens"], golden["prompt_ids"].size());
}

TEST_F(StoriesServe, AnswersTheOpenAiClient) {
    std::string why;
    const auto node_path = npm_package("openai", why);
    if (!node_path) GTEST_SKIP() << why;
    std::string out;
    const int rc = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                                 "/tests/server/openai_client.cjs' http://127.0.0.1:" +
                                 std::to_string(serve_->port()) + "/v1 stories260K",
                             out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ok   usage in the last chunk"), std::string::npos) << out;
    EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
}

TEST_F(StoriesServe, StreamsToTheChatPageInChromium) {
    const char* chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) GTEST_SKIP() << "no " << chromium << " (apt-get install chromium)";
    std::string why;
    const auto node_path = npm_package("playwright-core", why);
    if (!node_path) GTEST_SKIP() << why;
    const auto shots = std::filesystem::path(KILN_BINARY).parent_path() / "test-output";
    std::filesystem::create_directories(shots);
    const auto shot = shots / "server-web-page-stories260K.png";
    std::filesystem::remove(shot);
    std::string out;
    const int rc = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                                 "/tests/server/web_page.cjs' http://127.0.0.1:" + std::to_string(serve_->port()) +
                                 "/ " + chromium + " '" + shot.string() + "' stories260K",
                             out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
    EXPECT_NE(out.find("ok   it streamed in over several updates"), std::string::npos) << out;
    EXPECT_TRUE(std::filesystem::exists(shot)) << out;
    std::cout << out;
}

}  // namespace
}  // namespace kiln::testing
