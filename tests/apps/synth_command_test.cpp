// `kiln synth` as a user runs it: real shapes listed, a shape of each architecture written and
// run, bad requests refused with one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "apps/run_kiln_support.h"

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

std::filesystem::path temp_dir() {
    const auto d = std::filesystem::temp_directory_path() / ("kiln-synth-cmd-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

TEST(SynthCommand, HelpListsRealShapesOfEveryArchitecture) {
    const auto r = run({"synth", "--help"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* shape : {"tinyllama", "llama2-7b", "llama3-8b", "mistral-7b", "qwen2.5-0.5b", "qwen3-8b",
                              "smollm3-3b"}) {
        EXPECT_NE(r.out.find(shape), std::string::npos) << shape;
    }
}

TEST(SynthCommand, WritesAModelThatRuns) {
    const auto dir = temp_dir();
    const std::string path = (dir / "qwen3.gguf").string();
    const auto w = run({"synth", path, "--like", "qwen3-tiny", "--dtype", "q8_0", "--seed", "3", "-t", "2"});
    ASSERT_EQ(w.status, 0) << w.err;
    EXPECT_NE(w.out.find("qwen3 like qwen3-tiny, q8_0"), std::string::npos) << w.out;
    const auto r = run({"run", "-m", path, "-p", "hello", "-n", "4", "--temp", "0", "-t", "2"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("generation 4 tokens"), std::string::npos) << r.err;
    // A mix name: matrices typed as kiln quantize would type them.
    const std::string mixed = (dir / "mixed.gguf").string();
    const auto q = run({"synth", mixed, "--like", "smollm3-tiny", "--dtype", "Q4_K_M"});
    ASSERT_EQ(q.status, 0) << q.err;
    const auto info = run({"info", mixed, "--json"});
    ASSERT_EQ(info.status, 0) << info.err;
    EXPECT_NE(info.out.find("\"general.file_type\": 15"), std::string::npos);
    EXPECT_NE(info.out.find("\"q6_K\""), std::string::npos) << "the tied head gets q6_K";
    EXPECT_NE(info.out.find("\"q4_K\""), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(SynthCommand, BadRequestsFailWithOneLineAndWriteNothing) {
    const auto dir = temp_dir();
    const std::string path = (dir / "bad.gguf").string();
    auto r = run({"synth", path, "--like", "gpt-5"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("unknown shape 'gpt-5'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("qwen2.5-0.5b"), std::string::npos) << r.err;
    r = run({"synth", path, "--dtype", "q9_9"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("q9_9"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos) << "lists the mixes: " << r.err;
    r = run({"synth", path, "--tied", "--untied"});
    EXPECT_EQ(r.status, 1);
    r = run({"synth", path, "--like", "qwen2-tiny", "--vocab-from", (dir / "missing.gguf").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(path));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln
