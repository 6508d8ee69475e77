// The official `openai` npm package talks to kiln serve (openai_client.cjs): models, chat
// completions plain and streamed, completions, an error. The package is installed with npm into
// the build directory on first run; the test skips, saying why, where it cannot be had.
#include <gtest/gtest.h>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(OpenAiNpmClient, TalksToTheServer) {
    std::string why;
    const auto node_path = npm_package("openai", why);
    if (!node_path) GTEST_SKIP() << why;
    TestServerOptions o;
    o.parallel = 2;
    TestServer s(o);
    std::string out;
    const int rc = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                                 "/tests/server/openai_client.cjs' http://127.0.0.1:" + std::to_string(s.port()) + "/v1",
                             out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ok   usage in the last chunk"), std::string::npos) << out;
    EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
}

}  // namespace
}  // namespace kiln::testing
