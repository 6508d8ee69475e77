// Special tokens, BOS / EOS, invalid UTF-8 and byte fallback. Expected ids come from llama.cpp
// v0.5.0's llama-tokenize on the same vocabularies (../shared/peer/run llama-tokenize -f FILE
// --ids --no-escape [--no-bos] [--no-parse-special]).
#include <gtest/gtest.h>

#include <algorithm>

#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "tokenizer/golden_cases.h"

namespace kiln {
namespace {

struct Case {
    const char* text;
    bool add_special;
    bool parse_special;
    std::vector<int32_t> ids;
};

void expect_cases(const std::filesystem::path& path, const std::vector<Case>& cases) {
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    for (const Case& c : cases) {
        const std::vector<int32_t> got = tok.encode(c.text, c.add_special, c.parse_special);
        EXPECT_EQ(got, c.ids) << path.filename() << " " << testing::quoted(c.text) << " add_special=" << c.add_special
                              << " parse_special=" << c.parse_special << "\n  expected: " << testing::ids_to_string(c.ids)
                              << "\n  got:      " << testing::ids_to_string(got);
    }
}

TEST(SpmTokenizer, LlamaSpmSpecialTokens) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
    expect_cases(path, {
        {"<s>Hello</s> world", false, false, {529, 29879, 29958, 10994, 829, 29879, 29958, 3186}},
        {"<s>Hello</s> world", false, true, {1, 15043, 2, 29871, 3186}},
        {"<s>Hello</s> world", true, true, {1, 1, 15043, 2, 29871, 3186}},
        {"Hello<unk>world", false, false, {15043, 29966, 2960, 29958, 11526}},
        {"Hello<unk>world", false, true, {15043, 0, 3186}},
        {" <s> x", false, false, {29871, 529, 29879, 29958, 921}},
        {" <s> x", false, true, {259, 1, 29871, 921}},
        {"", false, false, {}},
        {"", true, false, {1}},
        {"</s>", true, true, {1, 2}},
        // Token texts of byte tokens are plain text.
        {"<0x41> <0x0A>", false, true, {529, 29900, 29916, 29946, 29896, 29958, 529, 29900, 29916, 29900, 29909, 29958}},
        // Invalid UTF-8: a stray lead byte takes the bytes after it into its piece, all as bytes.
        {"a\xff" "b\xe2\x82" "c", false, false, {263, 258, 101, 229, 133, 29883}},
    });
}

TEST(SpmTokenizer, Phi3UserDefinedAndStripRules) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-phi-3.gguf");
    expect_cases(path, {
        // Phi-3 (by general.name) drops whitespace after its chat markers.
        {"<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n", false, true, {32010, 317, 21554, 13, 17628, 32007, 32001}},
        {"<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n", false, false,
         {529, 29989, 1792, 29989, 29958, 13, 14816, 29903, 13, 17628, 29966, 29989, 355, 29989, 29958, 13, 29966, 29989,
          465, 22137, 29989, 29958, 13}},
        // "</s>" is user-defined here, but llama.cpp makes every end-of-generation text a control token.
        {"a</s>  b", false, false, {263, 829, 29879, 29958, 29871, 289}},
        {"a</s>  b", false, true, {263, 2, 289}},
        // <|endoftext|> keeps the whitespace after it.
        {"<|endoftext|> x", false, true, {32000, 29871, 921}},
        {"<|endoftext|> x", false, false, {529, 29989, 355, 974, 726, 29989, 29958, 921}},
        {"<s> x", false, true, {1, 29871, 921}},
    });
}

TEST(SpmTokenizer, NoByteTokensFallsBackToUnknown) {
    KILN_REQUIRE_SHARED_FILE(path, "models/TinyStories-656K.f16.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    // llama.cpp itself throws std::out_of_range here; kiln uses <unk> for each piece with no token.
    const std::vector<int32_t> ids = tok.encode("caf\xc3\xa9!", false, false);
    ASSERT_FALSE(ids.empty());
    EXPECT_NE(std::find(ids.begin(), ids.end(), tok.vocab().special().unk), ids.end());
    EXPECT_EQ(tok.encode("<|start_story|>Hi", false, false), (std::vector<int32_t>{214, 1158}));
    EXPECT_EQ(tok.encode("Once upon a time", false, false), (std::vector<int32_t>{80, 147, 201, 282, 57}));
}

TEST(SpmTokenizer, Phi3EndOfGeneration) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-phi-3.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    const Vocab& v = tok.vocab();
    EXPECT_EQ(v.special().eos, 32000);
    EXPECT_EQ(v.special().eot, 32007);  // <|end|>, found by text
    EXPECT_TRUE(v.is_eog(32000));
    EXPECT_TRUE(v.is_eog(32007));
    EXPECT_TRUE(v.is_eog(2));  // </s>
    EXPECT_FALSE(v.is_eog(32010));
    EXPECT_FALSE(v.is_eog(1));
}

}  // namespace
}  // namespace kiln
