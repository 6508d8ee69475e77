// The official `openai` npm package talks to kiln serve (openai_client.cjs): models, chat
// completions plain and streamed, completions, logprobs, embeddings, an error. The package is installed with npm into
// the build directory on first run; the test skips, saying why, where it cannot be had.
#include <gtest/gtest.h>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(OpenAiNpmClient, TalksToTheServer) {
    TestServerOptions o;
    o.parallel = 2;
    TestServer s(o);
    std::string why;
    const auto run = run_openai_client(s.port(), "tiny", why);
    if (!run) GTEST_SKIP() << why;
    EXPECT_EQ(run->status, 0) << run->output;
    EXPECT_NE(run->output.find("ok   usage in the last chunk"), std::string::npos) << run->output;
    EXPECT_NE(run->output.find("ok   greedy: the chosen token is the likeliest"), std::string::npos) << run->output;
    EXPECT_NE(run->output.find("ok   float and base64 embeddings agree"), std::string::npos) << run->output;
    EXPECT_EQ(run->output.find("FAIL"), std::string::npos) << run->output;
}

}  // namespace
}  // namespace kiln::testing
