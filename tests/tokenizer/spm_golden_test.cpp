// SentencePiece encoding against llama.cpp's tokenizer goldens and the prompt ids of the
// generation goldens; each case prints the input, the expected ids and kiln's.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "tokenizer/golden_cases.h"
#include "tokenizer/prompt_ids_check.h"

namespace kiln {
namespace {

using testing::GoldenCase;
using testing::ids_to_string;
using testing::read_golden_cases;

void expect_golden_file(const std::filesystem::path& vocab_path) {
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
    const std::vector<GoldenCase> cases = read_golden_cases(vocab_path);
    ASSERT_GT(cases.size(), 40u);
    size_t passed = 0;
    for (const GoldenCase& c : cases) {
        const std::vector<int32_t> got = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
        if (got == c.ids) {
            ++passed;
        } else {
            ADD_FAILURE() << vocab_path.filename() << " case " << c.index << ": " << testing::quoted(c.text)
                          << "\n  expected: " << ids_to_string(c.ids) << "\n  got:      " << ids_to_string(got);
        }
    }
    EXPECT_EQ(passed, cases.size());
    std::cout << vocab_path.filename().string() << ": " << passed << "/" << cases.size() << " cases match\n";
}

TEST(SpmTokenizer, LlamaSpmGoldens) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
    expect_golden_file(path);
}

TEST(SpmTokenizer, Phi3Goldens) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-phi-3.gguf");
    expect_golden_file(path);
}


using testing::PromptGolden;

class SpmPromptIds : public ::testing::TestWithParam<PromptGolden> {};

TEST_P(SpmPromptIds, MatchGoldenJson) {
    KILN_REQUIRE_SHARED(shared);
    const std::filesystem::path json_path = shared / GetParam().json;
    const std::filesystem::path model_path = shared / "models" / GetParam().model;
    if (!testing::check_prompt_ids(json_path, model_path)) FAIL() << json_path << " or " << model_path << " is missing from shared/";
}

INSTANTIATE_TEST_SUITE_P(
    SpmTokenizer, SpmPromptIds,
    ::testing::Values(PromptGolden{"stories260K.gguf", "golden/stories260K.p1.json"},
                      PromptGolden{"stories260K.gguf", "golden/stories260K.p2.json"},
                      PromptGolden{"stories260K.gguf", "golden/stories260K.p3.json"},
                      PromptGolden{"TinyStories-656K.f16.gguf", "golden/TinyStories-656K.f16.p1.json"},
                      PromptGolden{"TinyStories-656K.f16.gguf", "golden/TinyStories-656K.f16.p2.json"},
                      PromptGolden{"TinyStories-656K.f16.gguf", "golden/TinyStories-656K.f16.p3.json"},
                      PromptGolden{"tinystories-656k-q8_0.gguf", "golden/tinystories-656k-q8_0.p1.json"},
                      PromptGolden{"tinystories-656k-q8_0.gguf", "golden/tinystories-656k-q8_0.p2.json"},
                      PromptGolden{"tinystories-656k-q8_0.gguf", "golden/tinystories-656k-q8_0.p3.json"},
                      PromptGolden{"synthetic/llama-f32.gguf", "golden/synthetic/llama-f32.p1.json"},
                      PromptGolden{"synthetic/llama-f32.gguf", "golden/synthetic/llama-f32.p2.json"},
                      PromptGolden{"synthetic/mistral-f32.gguf", "golden/synthetic/mistral-f32.p1.json"},
                      PromptGolden{"synthetic/mistral-f32.gguf", "golden/synthetic/mistral-f32.p2.json"}));

}  // namespace
}  // namespace kiln
