// `kiln quantize` as a command: help lists the types and the recipe, a run prints progress
// and a summary, bad arguments give one line and status 1 with nothing written.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "models/gguf/gguf_reader.h"
#include "run_kiln_support.h"

namespace kiln {
namespace {

using namespace kiln::testing;
namespace fs = std::filesystem;

class QuantizeCommand : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("kiln-quantize-cmd-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const KilnResult r = run_kiln_capture({"synth", (dir_ / "tiny.gguf").string(), "--shape", "tiny"});
        ASSERT_EQ(r.status, 0) << r.err;
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }
    static inline fs::path dir_;
};

TEST_F(QuantizeCommand, HelpListsTypesAndRecipe) {
    const KilnResult r = run_kiln_capture({"quantize", "--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* s : {"Q4_K_M", "IQ4_NL", "BF16", "Q3_K_L", "attn_v", "ffn_down", "q6_K->q8_0", "-t, --threads"}) {
        EXPECT_NE(r.out.find(s), std::string::npos) << s;
    }
}

TEST_F(QuantizeCommand, WritesTheMixAndSummarises) {
    const fs::path out = dir_ / "q4km.gguf";
    const KilnResult r = run_kiln_capture({"quantize", (dir_ / "tiny.gguf").string(), out.string(), "q4_k_m", "-t", "2"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("(Q4_K_M, file type 15)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("tensors: f32 9, q4_K 25, q6_K 5"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fallbacks: 0"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("100% (39/39 tensors)"), std::string::npos) << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 12) << r.err;  // compact: ~every 10%
    EXPECT_EQ(GgufFile::open(out).get_uint("general.file_type"), 15u);
}

TEST_F(QuantizeCommand, BadArgumentsAreOneLineAndWriteNothing) {
    const fs::path out = dir_ / "bad.gguf";
    const std::string in = (dir_ / "tiny.gguf").string();
    const std::vector<std::vector<std::string>> cases = {
        {"quantize", in, out.string(), "Q4_K_Q"},
        {"quantize", (dir_ / "missing.gguf").string(), out.string(), "Q4_0"},
        {"quantize", in, in, "Q4_0"},
        {"quantize", in, (dir_ / "no-dir" / "x.gguf").string(), "Q4_0"},
        {"quantize", in, out.string(), "Q4_0", "-t", "0"},
        {"quantize", in, out.string()},
    };
    for (const auto& argv : cases) {
        const KilnResult r = run_kiln_capture(argv);
        EXPECT_EQ(r.status, 1) << argv.back();
        ASSERT_FALSE(r.err.empty());
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line (no progress either)
        EXPECT_FALSE(fs::exists(out)) << argv.back();
        EXPECT_FALSE(fs::exists(out.string() + ".partial")) << argv.back();
    }
    const KilnResult r = run_kiln_capture({"quantize", in, out.string(), "Q4_K_Q"});
    EXPECT_NE(r.err.find("unknown quantization type 'Q4_K_Q' (known: F32, F16, BF16, Q8_0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln
