// The chat page in a real browser (web_page.cjs): Debian's chromium, headless, driven by
// playwright-core from npm (installed into the build directory on first run). Skips, saying
// why, without chromium or the package. The screenshot lands in BUILD/test-output/.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(WebPage, ChatsInHeadlessChromium) {
    const char* chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) GTEST_SKIP() << "no " << chromium << " (apt-get install chromium)";
    std::string why;
    const auto node_path = npm_package("playwright-core", why);
    if (!node_path) GTEST_SKIP() << why;
    const auto shots = std::filesystem::path(KILN_BINARY).parent_path() / "test-output";
    std::filesystem::create_directories(shots);
    const auto shot = shots / "server-web-page.png";
    std::filesystem::remove(shot);
    TestServerOptions o;
    o.parallel = 2;
    o.n_ctx = 4096;  // room for the answer the stop button interrupts
    TestServer s(o);
    std::string out;
    const int rc = run_shell("NODE_PATH='" + *node_path + "' timeout 120 node '" + KILN_SOURCE_DIR +
                                 "/tests/server/web_page.cjs' http://127.0.0.1:" + std::to_string(s.port()) + "/ " +
                                 chromium + " '" + shot.string() + "'",
                             out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
    EXPECT_NE(out.find("ok   it streamed in over several updates"), std::string::npos) << out;
    EXPECT_TRUE(std::filesystem::exists(shot)) << out;
    EXPECT_GT(std::filesystem::file_size(shot), 10000u);
    std::cout << out;  // the checks and where the screenshot is
}

}  // namespace
}  // namespace kiln::testing
