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
    const auto run = run_openai_client(serve_->port(), "stories260K", why);
    if (!run) GTEST_SKIP() << why;
    EXPECT_EQ(run->status, 0) << run->output;
    EXPECT_NE(run->output.find("ok   usage in the last chunk"), std::string::npos) << run->output;
    EXPECT_EQ(run->output.find("FAIL"), std::string::npos) << run->output;
}

TEST_F(StoriesServe, StreamsToTheChatPageInChromium) {
    const auto shot = std::filesystem::path(KILN_BINARY).parent_path() / "test-output" / "server-web-page-stories260K.png";
    std::string why;
    const auto run = run_web_page(serve_->port(), "stories260K", shot, why);
    if (!run) GTEST_SKIP() << why;
    EXPECT_EQ(run->status, 0) << run->output;
    EXPECT_EQ(run->output.find("FAIL"), std::string::npos) << run->output;
    EXPECT_NE(run->output.find("ok   it streamed in over several updates"), std::string::npos) << run->output;
    EXPECT_TRUE(std::filesystem::exists(shot)) << run->output;
    std::cout << run->output;
}

}  // namespace
}  // namespace kiln::testing
