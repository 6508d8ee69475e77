// `kiln info`: facts a user checks, JSON that parses, and exit status 1 with one line on bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
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

TEST(InfoCommand, Stories260KText) {
    KILN_REQUIRE_SHARED_FILE(path, "models/stories260K.gguf");
    Result r = run({"info", path.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* fact : {"architecture llama", "layers            5", "embedding         64",
                             "8 (KV heads 4, GQA 2:1)", "vocab             512", "parameters 292,800",
                             "f32               48 tensors", "GGUF v3", "output.weight"}) {
        EXPECT_NE(r.out.find(fact), std::string::npos) << "missing '" << fact << "' in:\n" << r.out;
    }
    EXPECT_EQ(r.out.find("tensor table"), std::string::npos);
    Result t = run({"info", path.string(), "--tensors"});
    EXPECT_NE(t.out.find("blk.4.ffn_down.weight           f32     [172, 64]"), std::string::npos) << t.out;
    EXPECT_NE(r.out.find("unk 0 \"<unk>\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("norm epsilon      1e-05 (RMSNorm)"), std::string::npos) << r.out;
}

TEST(InfoCommand, Stories260KJson) {
    KILN_REQUIRE_SHARED_FILE(path, "models/stories260K.gguf");
    Result r = run({"info", "--json", "--tensors", "-m", path.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["hparams"]["block_count"], 5);
    EXPECT_EQ(j["hparams"]["embedding_length"], 64);
    EXPECT_EQ(j["hparams"]["head_count"], 8);
    EXPECT_EQ(j["hparams"]["head_count_kv"], 4);
    EXPECT_EQ(j["hparams"]["vocab_size"], 512);
    EXPECT_EQ(j["parameters"], 292800);
    EXPECT_EQ(j["dtypes"].size(), 1u);
    EXPECT_EQ(j["dtypes"]["f32"]["tensors"], 48);
    EXPECT_EQ(j["tensors"].size(), 48u);
    EXPECT_EQ(j["tokenizer"]["model"], "llama");
    EXPECT_EQ(j["tokenizer"]["special"]["bos"]["id"], 1);
    // The 512-token vocabulary is abbreviated, not dumped.
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["length"], 512);
}

// A mixture of experts: its experts, how many a token uses, and the parameters a token reads
// (the expert tensors count 4 of 8 here; the shared expert and everything else in full).
TEST(InfoCommand, MixtureOfExpertsCountsActiveParameters) {
    KILN_REQUIRE_SHARED_FILE(path, "models/synthetic/qwen2moe-q8_0.gguf");
    Result r = run({"info", path.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* fact : {"experts           8 (4 per token), feed-forward 64, shared expert 256",
                             "parameters 1,215,872 (1.22 M), 1,019,264 (1.02 M) active per token"}) {
        EXPECT_NE(r.out.find(fact), std::string::npos) << "missing '" << fact << "' in:\n" << r.out;
    }
    Result j = run({"info", "--json", path.string()});
    ASSERT_EQ(j.status, 0) << j.err;
    const nlohmann::json info = nlohmann::json::parse(j.out);
    EXPECT_EQ(info["hparams"]["expert_count"], 8);
    EXPECT_EQ(info["hparams"]["expert_used_count"], 4);
    EXPECT_EQ(info["active_parameters"], 1019264);
}

TEST(InfoCommand, GraphShowsNodesAndMemoryPlan) {
    KILN_REQUIRE_SHARED_FILE(path, "models/stories260K.gguf");
    Result r = run({"info", path.string(), "--graph", "-c", "64"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* fact : {"get_rows", "rms_norm", "flash_attn", "set_rows", "swiglu", "logits", "arena (peak)",
                             "state (KV cache)  40,960 bytes"}) {  // 5 layers x K,V x 64 slots x 32 values x f16
        EXPECT_NE(r.out.find(fact), std::string::npos) << "missing '" << fact << "' in:\n" << r.out;
    }
    Result prompt = run({"info", path.string(), "--graph", "--graph-tokens", "32"});
    EXPECT_NE(prompt.out.find("[64, 32]"), std::string::npos) << prompt.out;
}

TEST(InfoCommand, VocabOnlyFile) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
    Result r = run({"info", path.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("vocabulary only"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("32,000 tokens"), std::string::npos) << r.out;
}

TEST(InfoCommand, BadInputIsOneLineAndStatusOne) {
    const auto dir = std::filesystem::temp_directory_path() / ("kiln-info-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto bad = dir / "bad.gguf";
    std::ofstream(bad) << "GGUF\x03\0\0\0 this is not a model";
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"info", bad.string()}, {"info", (dir / "missing.gguf").string()}, {"info"}, {"info", "--bogus"},
             {"nosuchcommand"}}) {
        Result r = run(argv);
        EXPECT_EQ(r.status, 1) << argv.back();
        EXPECT_TRUE(r.out.empty()) << r.out;
        EXPECT_FALSE(r.err.empty());
        if (argv.size() == 2 && argv[1] != "--bogus") {
            EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
            EXPECT_NE(r.err.find(argv[1]), std::string::npos) << r.err;
        }
    }
    // The real binary exits with status 1 too.
    std::string cmd = std::string(KILN_BINARY) + " info " + bad.string() + " >/dev/null 2>&1";
    int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln
