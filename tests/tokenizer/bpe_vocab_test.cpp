// Byte-level BPE with the real vocabularies: BOS rules, special tokens, decoding and streaming
// back to the text, and encode speed with the 151k-token Qwen2 vocabulary.
#include <gtest/gtest.h>

#include <chrono>

#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/token_stream.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "tokenizer/golden_cases.h"

namespace kiln {
namespace {

TEST(BpeVocab, Llama3AddsBosQwen2DoesNot) {
    KILN_REQUIRE_SHARED(shared);
    const auto llama = shared / "models/vocab-llama-bpe.gguf";
    const auto qwen = shared / "models/vocab-qwen2.gguf";
    if (!std::filesystem::exists(llama) || !std::filesystem::exists(qwen)) FAIL() << "vocabularies missing from shared/";
    const Tokenizer l = Tokenizer::from_gguf(GgufFile::open(llama));
    const Tokenizer q = Tokenizer::from_gguf(GgufFile::open(qwen));
    EXPECT_EQ(l.encode("Hello", true, false), (std::vector<int32_t>{128000, 9906}));
    EXPECT_EQ(q.encode("Hello", true, false), (std::vector<int32_t>{9707}));
    // Chat markers are control tokens: matched only when parsing specials.
    EXPECT_EQ(q.encode("<|im_start|>user", false, true), (std::vector<int32_t>{151644, 872}));
    EXPECT_GT(q.encode("<|im_start|>user", false, false).size(), 2u);
    EXPECT_TRUE(q.vocab().is_eog(151645));
    EXPECT_TRUE(l.vocab().is_eog(128009));  // <|eot_id|>
    EXPECT_EQ(q.decode(q.encode("<|im_end|>", false, true)), "");
    EXPECT_EQ(q.decode(q.encode("<|im_end|>", false, true), {.render_special = true}), "<|im_end|>");
    // Llama 3 cleans spaces on decode (llama.cpp's clean_spaces); Qwen2 does not.
    EXPECT_EQ(l.decode(l.encode("Hi , there .", false, false)), "Hi, there.");
    EXPECT_EQ(q.decode(q.encode("Hi , there .", false, false)), "Hi , there .");
}

// Every golden string comes back from its ids, whole and streamed one token at a time.
TEST(BpeVocab, DecodeAndStreamRoundTrip) {
    KILN_REQUIRE_SHARED(shared);
    for (const char* name : {"vocab-qwen2.gguf", "vocab-llama-bpe.gguf", "ggml-vocab-gpt-2.gguf",
                             "ggml-vocab-deepseek-llm.gguf"}) {
        const auto path = shared / "models" / name;
        ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing from shared/";
        const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
        for (const testing::GoldenCase& c : testing::read_golden_cases(shared / "models/ggml-vocab-qwen2.gguf")) {
            const std::vector<int32_t> ids = tok.encode(c.text, false, false);
            EXPECT_EQ(tok.decode(ids, {.clean_spaces = false}), c.text) << name << " case " << c.index;
            TokenTextStream stream(tok);
            std::string streamed;
            for (int32_t id : ids) streamed += stream.push(id);
            streamed += stream.finish();
            EXPECT_EQ(streamed, c.text) << name << " case " << c.index;
        }
    }
}

// Byte-level tokens split characters ("🦙" is several tokens in gpt-2): the stream holds bytes
// until a character is whole.
TEST(BpeVocab, StreamHoldsSplitCharacters) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-gpt-2.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    const std::string text = "llama \xF0\x9F\xA6\x99!";
    const std::vector<int32_t> ids = tok.encode(text, false, false);
    TokenTextStream stream(tok);
    std::string out;
    bool saw_partial = false;
    for (int32_t id : ids) {
        const std::string piece = tok.token_to_piece(id);
        const std::string_view got = stream.push(id);
        if (!piece.empty() && got.empty()) saw_partial = true;
        out += got;
    }
    out += stream.finish();
    EXPECT_TRUE(saw_partial);
    EXPECT_EQ(out, text);
}

double microseconds_per_encode(const Tokenizer& tok, const std::string& text, int repeats, size_t& n_ids) {
    std::vector<int32_t> ids;
    tok.encode(text, false, false, ids);  // warm the scratch buffers
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) tok.encode(text, false, false, ids);
    const auto end = std::chrono::steady_clock::now();
    n_ids = ids.size();
    return std::chrono::duration<double, std::micro>(end - start).count() / repeats;
}

TEST(BpeVocab, EncodeSpeedQwen2) {
    KILN_REQUIRE_SHARED(shared);
    const auto path = shared / "models/vocab-qwen2.gguf";
    if (!std::filesystem::exists(path)) FAIL() << path << " is missing from shared/";
    const auto load_start = std::chrono::steady_clock::now();
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();

    std::string mixed;  // English, Cyrillic, CJK, emoji, code, whitespace runs
    for (const testing::GoldenCase& c : testing::read_golden_cases(shared / "models/ggml-vocab-qwen2.gguf")) {
        mixed += c.text + " ";
    }
    auto repeat_to = [](std::string unit, size_t bytes) {
        std::string s;
        while (s.size() < bytes) s += unit;
        return s;
    };
    const std::string small = repeat_to(mixed, 4096);
    const std::string large = repeat_to(mixed, 64 * 1024);
    const std::string english =
        repeat_to("Once upon a time, there was a little girl named Lily. She loved to play outside. ", 4096);
    size_t small_ids = 0, large_ids = 0, english_ids = 0;
    const double small_us = microseconds_per_encode(tok, small, 50, small_ids);
    const double large_us = microseconds_per_encode(tok, large, 5, large_ids);
    const double english_us = microseconds_per_encode(tok, english, 50, english_ids);
    std::cout << "qwen2 load: " << load_ms << " ms; encode " << small.size() << " B mixed -> " << small_ids
              << " ids: " << small_us << " us; " << large.size() << " B -> " << large_ids << " ids: " << large_us
              << " us; " << english.size() << " B English -> " << english_ids << " ids: " << english_us << " us\n";
    // Generous bounds for Debug / sanitizer builds; the ratio catches quadratic behaviour.
    EXPECT_LT(small_us, 100000.0);
    EXPECT_LT(english_us, 100000.0);
    EXPECT_LT(large_us, small_us * 64.0);
}

// A long run of one character must not make merging quadratic.
TEST(BpeVocab, LongRepeatsStayFast) {
    KILN_REQUIRE_SHARED_FILE(path, "models/vocab-qwen2.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    const std::string spaces(20000, ' ');
    const std::string letters(20000, 'a');
    const auto start = std::chrono::steady_clock::now();
    const size_t n = tok.encode(spaces, false, false).size() + tok.encode(letters, false, false).size();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "20k spaces + 20k 'a': " << n << " ids in " << ms << " ms\n";
    EXPECT_LT(ms, 5000.0);
    EXPECT_EQ(tok.decode(tok.encode(letters, false, false)), letters);
}

}  // namespace
}  // namespace kiln
