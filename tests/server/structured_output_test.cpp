// Structured output through the official `openai` npm client, checked by ajv (a JSON Schema
// validator independent of kiln): structured_output.cjs, JSON answers and tool calls. Skips, saying why, where node or the
// packages cannot be had.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/test_server.h"
#include "support/shared_dir.h"

namespace kiln::testing {
namespace {

TEST(StructuredOutputNpmClient, AnswersValidateAgainstTheirSchemas) {
    TestServerOptions o;
    o.parallel = 2;
    o.n_ctx = 1024;
    // Tool calls need a template that takes tools: Qwen2.5's, where shared/ has it.
    std::string tools_arg;
    if (const auto shared = shared_dir()) {
        std::ifstream in(*shared / "templates" / "Qwen-Qwen2.5-7B-Instruct.jinja", std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        o.chat_template = text.str();
        tools_arg = o.chat_template.empty() ? "" : " tools";
    }
    TestServer s(o);
    std::string why;
    std::optional<std::string> node_path;
    for (const char* package : {"openai", "ajv", "ajv-formats"}) {
        node_path = npm_package(package, why);
        if (!node_path) GTEST_SKIP() << why;
    }
    ScriptRun r;
    r.status = run_shell("NODE_PATH='" + *node_path + "' timeout 300 node '" + KILN_SOURCE_DIR +
                             "/tests/server/structured_output.cjs' http://127.0.0.1:" + std::to_string(s.port()) + "/v1" + tools_arg,
                         r.output);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("json_schema answers validate"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
    if (!tools_arg.empty()) {
        EXPECT_NE(r.output.find("ok   streamed and whole calls agree"), std::string::npos) << r.output;
    }
}

}  // namespace
}  // namespace kiln::testing
