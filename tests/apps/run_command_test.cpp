// `kiln run`, `kiln tokenize` and `kiln chat` as a user runs them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/run_kiln_support.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

using Result = testing::KilnResult;
const auto run = testing::run_kiln_capture;

nlohmann::json golden_json(const std::filesystem::path& shared, const std::string& name) {
    std::ifstream f(shared / "golden" / (name + ".json"));
    return nlohmann::json::parse(f);
}

// The acceptance check of the issue: greedy generation prints llama.cpp's story, word for word,
// for the f32 and f16 models. (q8_0 rows can part ways after an 8-bit rounding flip where two
// tokens are close: see tests/model/golden_test_support.h. q8_0.p1 has no such point.)
TEST(RunCommand, GreedyStoriesMatchLlamaCpp) {
    KILN_REQUIRE_SHARED(shared);
    for (const char* name : {"stories260K.p1", "stories260K.p2", "stories260K.p3", "TinyStories-656K.f16.p1",
                             "TinyStories-656K.f16.p2", "TinyStories-656K.f16.p3", "tinystories-656k-q8_0.p1"}) {
        nlohmann::json j = golden_json(shared, name);
        const std::string model = (shared / "models" / j["model"].get<std::string>()).string();
        const std::string prompt = j["prompt"];
        Result r = run({"run", "-m", model, "-p", prompt, "--temp", "0", "-n", "48", "-t", "2"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, prompt + j["text"].get<std::string>() + "\n") << name;
        EXPECT_NE(r.err.find("generation 48 tokens"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
    }
}

// Every architecture's synthetic model (SentencePiece and byte-level BPE vocabularies) prints
// llama.cpp's greedy continuation.
TEST(RunCommand, SyntheticArchitecturesMatchLlamaCpp) {
    KILN_REQUIRE_SHARED(shared);
    for (const char* arch : {"llama", "mistral", "qwen2", "qwen3", "smollm3"}) {
        for (const char* p : {"p1", "p2"}) {
            std::ifstream f(shared / "golden/synthetic" / (std::string(arch) + "-f32." + p + ".json"));
            nlohmann::json j = nlohmann::json::parse(f);
            const std::string model = (shared / "models/synthetic" / j["model"].get<std::string>()).string();
            const std::string prompt = j["prompt"];
            Result r = run({"run", "-m", model, "-p", prompt, "--temp", "0", "-n", "32", "-t", "2"});
            ASSERT_EQ(r.status, 0) << r.err;
            EXPECT_EQ(r.out, prompt + j["text"].get<std::string>() + "\n") << arch << " " << p;
        }
    }
}

TEST(RunCommand, SeededSamplingIsRepeatable) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    std::vector<std::string> argv = {"run", "-m", model.string(), "-p", "Once", "-n", "20", "--seed", "7", "--temp", "1"};
    Result a = run(argv);
    Result b = run(argv);
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    argv[argv.size() - 3] = "8";
    EXPECT_NE(run(argv).out, a.out);
}

TEST(RunCommand, BadRequestsAreOneLineErrors) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    const std::vector<std::vector<std::string>> bad = {
        {"run", "-m", model.string()},                                   // no prompt
        {"run", "-p", "hi"},                                             // no model
        {"run", "-m", model.string(), "-p", "hi", "--top-p", "2"},      // out of range
        {"run", "-m", model.string(), "-p", "hi", "--temp", "warm"},    // not a number
        {"run", "-m", model.string(), "-p", "hi", "-c", "0"},           // zero context
        {"run", "-m", model.string(), "-p", "hi", "--backend", "tpu"},  // unknown backend
        {"run", "-m", (model.parent_path() / "ggml-vocab-llama-spm.gguf").string(), "-p", "hi"},  // no weights
    };
    for (const auto& argv : bad) {
        Result r = run(argv);
        EXPECT_EQ(r.status, 1) << argv.back();
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
        EXPECT_EQ(r.err.rfind("kiln: ", 0), 0u) << r.err;
    }
}

TEST(RunCommand, ContextFullIsAClearStop) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    Result r = run({"run", "-m", model.string(), "-p", "Once upon a time", "--temp", "0", "-n", "100", "-c", "16"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("stop: context full"), std::string::npos) << r.err;
    Result too_long = run({"run", "-m", model.string(), "-p", "Once upon a time there was", "-c", "4"});
    EXPECT_EQ(too_long.status, 1);
    EXPECT_NE(too_long.err.find("do not fit"), std::string::npos) << too_long.err;
}

TEST(TokenizeCommand, IdsMatchTheGolden) {
    KILN_REQUIRE_SHARED(shared);
    nlohmann::json j = golden_json(shared, "stories260K.p1");
    Result r = run({"tokenize", "-m", (shared / "models/stories260K.gguf").string(), "-p", j["prompt"], "--ids"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string expected = "[";
    for (size_t i = 0; i < j["prompt_ids"].size(); ++i) expected += (i ? ", " : "") + std::to_string(j["prompt_ids"][i].get<int>());
    EXPECT_EQ(r.out, expected + "]\n");
    Result pieces = run({"tokenize", "-m", (shared / "models/stories260K.gguf").string(), "-p", "Once upon"});
    EXPECT_NE(pieces.out.find("1 '<s>'"), std::string::npos) << pieces.out;
}

// The real binary, with turns on stdin: replies come back, /clear works, /quit ends the loop.
TEST(ChatCommand, TurnsClearAndQuit) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    const auto dir = std::filesystem::temp_directory_path() / ("kiln-chat-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in.txt") << "Once upon a time\n/clear\nLily and Tom\n/quit\nnever read\n";
    const std::string cmd = std::string(KILN_BINARY) + " chat -m " + model.string() + " --temp 0 -n 24 < " +
                            (dir / "in.txt").string() + " > " + (dir / "out.txt").string() + " 2> " + (dir / "err.txt").string();
    int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::ifstream out(dir / "out.txt");
    std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("(conversation cleared)"), std::string::npos) << text;
    std::ifstream err(dir / "err.txt");
    std::string timings((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    size_t turns = 0;
    for (size_t at = 0; (at = timings.find("generation", at)) != std::string::npos; ++at) ++turns;
    EXPECT_EQ(turns, 2u) << timings;  // two replies; the line after /quit is never read
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln
