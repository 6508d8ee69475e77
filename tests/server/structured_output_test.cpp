// Structured output through the official `openai` npm client, checked by ajv (a JSON Schema
// validator independent of kiln): structured_output.cjs. Skips, saying why, where node or the
// packages cannot be had.
#include <gtest/gtest.h>

#include "server/test_server.h"

namespace kiln::testing {
namespace {

TEST(StructuredOutputNpmClient, AnswersValidateAgainstTheirSchemas) {
    TestServerOptions o;
    o.parallel = 2;
    o.n_ctx = 1024;
    TestServer s(o);
    std::string why;
    std::optional<std::string> node_path;
    for (const char* package : {"openai", "ajv", "ajv-formats"}) {
        node_path = npm_package(package, why);
        if (!node_path) GTEST_SKIP() << why;
    }
    ScriptRun r;
    r.status = run_shell("NODE_PATH='" + *node_path + "' timeout 300 node '" + KILN_SOURCE_DIR +
                             "/tests/server/structured_output.cjs' http://127.0.0.1:" + std::to_string(s.port()) + "/v1",
                         r.output);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("json_schema answers validate"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace kiln::testing
