// `kiln run --grammar / --grammar-file / -j / -jf` as a user runs them: the output follows the
// grammar, and a bad grammar or schema fails before the model loads, naming where.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

const std::string& model() {
    static testing::TempModel m("grammar-flags", "tiny", DType::Q8_0, 4);
    static const std::string path = m.path().string();
    return path;
}

// What kiln run printed after the prompt (it echoes the prompt, then a newline at the end).
std::string generated(const testing::KilnResult& r, const std::string& prompt) {
    EXPECT_EQ(r.out.rfind(prompt, 0), 0u) << r.out;
    std::string text = r.out.substr(prompt.size());
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

TEST(GrammarFlags, OutputFollowsAGrammarAndStopsWhenItIsComplete) {
    for (const char* seed : {"1", "2", "3", "4"}) {
        const auto r = run({"run", "-m", model(), "-p", "Q:", "--seed", seed, "--grammar", R"(root ::= ("yes" | "no") "." [0-9]{2})"});
        ASSERT_EQ(r.status, 0) << r.err;
        const std::string text = generated(r, "Q:");
        EXPECT_TRUE(std::regex_match(text, std::regex(R"((yes|no)\.[0-9]{2})"))) << text;
        EXPECT_NE(r.err.find("stop: grammar complete"), std::string::npos) << r.err;
    }
}

TEST(GrammarFlags, JsonSchemaOutputParsesAndHasTheRequiredShape) {
    const std::string schema = R"({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 99},
        "s": {"enum": ["a", "b"]}}, "required": ["n", "s"], "additionalProperties": false})";
    const std::filesystem::path file = std::filesystem::temp_directory_path() / ("kiln-schema-" + std::to_string(::getpid()) + ".json");
    std::ofstream(file) << schema;
    for (int seed = 1; seed <= 6; ++seed) {
        const bool from_file = seed % 2 == 0;
        const auto r = run({"run", "-m", model(), "-p", "JSON:", "-n", "400", "--seed", std::to_string(seed),
                            from_file ? "-jf" : "-j", from_file ? file.string() : schema});
        ASSERT_EQ(r.status, 0) << r.err;
        const nlohmann::json v = nlohmann::json::parse(generated(r, "JSON:"));
        ASSERT_TRUE(v.is_object());
        EXPECT_EQ(v.size(), 2u);
        EXPECT_TRUE(v["n"].is_number_integer() && v["n"] >= 1 && v["n"] <= 99) << v;
        EXPECT_TRUE(v["s"] == "a" || v["s"] == "b") << v;
    }
    std::filesystem::remove(file);
}

TEST(GrammarFlags, BenchSamplesThroughTheGrammar) {
    const auto r = run({"bench", "-m", model(), "-p", "0", "-n", "48", "-r", "1", "-o", "json", "--grammar",
                        R"(root ::= "{" [a-z]{1,6} "}")"});
    ASSERT_EQ(r.status, 0) << r.err;
    const nlohmann::json rows = nlohmann::json::parse(r.out);
    ASSERT_EQ(rows.size(), 1u) << r.out;
    EXPECT_EQ(rows[0]["test"], "tg48+grammar");
    EXPECT_GT(rows[0]["tokens_per_second"].get<double>(), 0.0) << r.out;
}

TEST(GrammarFlags, BadGrammarsAndSchemasAreOneLineErrorsBeforeLoading) {
    struct Case {
        std::vector<std::string> flags;
        const char* expect;
    };
    const Case cases[] = {
        {{"--grammar", "root ::= foo"}, "kiln: --grammar:1:10: rule 'foo' is used but not defined"},
        {{"--grammar-file", "/nonexistent.gbnf"}, "/nonexistent.gbnf (--grammar-file): no such file"},
        {{"-j", R"({"type": "string", "pattern": "x"})"}, "--json-schema: at /: the keyword 'pattern' is not supported"},
        {{"-j", "{"}, "--json-schema: not JSON"},
        {{"-jf", "/"}, "/ (--json-schema-file):"},
        {{"--grammar", "root ::= \"a\"", "-j", "{}"}, "--grammar and --json-schema both constrain the output"},
    };
    for (const Case& c : cases) {
        // A model path that does not exist: the grammar must fail first.
        std::vector<std::string> argv = {"run", "-m", "/nonexistent-model.gguf", "-p", "x"};
        argv.insert(argv.end(), c.flags.begin(), c.flags.end());
        const auto r = run(argv);
        EXPECT_EQ(r.status, 1);
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    }
}

}  // namespace
}  // namespace kiln
