// The chat page in a real browser (web_page.cjs): Debian's chromium, headless, driven by
// playwright-core from npm (installed into the build directory on first run). Skips, saying
// why, without chromium or the package. The screenshot lands in BUILD/test-output/.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(WebPage, ChatsInHeadlessChromium) {
    TestServerOptions o;
    o.parallel = 2;
    o.n_ctx = 4096;  // room for the answer the stop button interrupts
    TestServer s(o);
    const auto shot = std::filesystem::path(KILN_BINARY).parent_path() / "test-output" / "server-web-page.png";
    std::string why;
    const auto run = run_web_page(s.port(), "tiny", shot, why);
    if (!run) GTEST_SKIP() << why;
    EXPECT_EQ(run->status, 0) << run->output;
    EXPECT_EQ(run->output.find("FAIL"), std::string::npos) << run->output;
    EXPECT_NE(run->output.find("ok   it streamed in over several updates"), std::string::npos) << run->output;
    EXPECT_TRUE(std::filesystem::exists(shot)) << run->output;
    EXPECT_GT(std::filesystem::file_size(shot), 10000u);
    std::cout << run->output;  // the checks and where the screenshot is
}

}  // namespace
}  // namespace kiln::testing
