// Encoding a few KB must be fast and linear-ish (a merge queue, not rescans of the whole text).
#include <gtest/gtest.h>

#include <chrono>

#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/token_stream.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "tokenizer/golden_cases.h"

namespace kiln {
namespace {

// Mixed text from the goldens (English, Cyrillic, Khmer, CJK, emoji, whitespace runs).
std::string mixed_text(const std::filesystem::path& vocab_path, size_t bytes) {
    std::string text;
    while (text.size() < bytes) {
        for (const testing::GoldenCase& c : testing::read_golden_cases(vocab_path)) text += c.text + " ";
    }
    text.resize(bytes);
    while (!text.empty() && (static_cast<uint8_t>(text.back()) & 0xC0) == 0x80) text.pop_back();  // whole chars
    if (!text.empty() && static_cast<uint8_t>(text.back()) >= 0xC0) text.pop_back();
    return text;
}

double microseconds_per_encode(const Tokenizer& tok, const std::string& text, int repeats, size_t& n_ids) {
    std::vector<int32_t> ids;
    tok.encode(text, true, false, ids);  // warm the scratch buffers
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) tok.encode(text, true, false, ids);
    const auto end = std::chrono::steady_clock::now();
    n_ids = ids.size();
    return std::chrono::duration<double, std::micro>(end - start).count() / repeats;
}

TEST(SpmTokenizer, EncodeSpeed) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    const std::string small = mixed_text(path, 4096);
    const std::string large = mixed_text(path, 64 * 1024);
    size_t small_ids = 0, large_ids = 0;
    const double small_us = microseconds_per_encode(tok, small, 50, small_ids);
    const double large_us = microseconds_per_encode(tok, large, 5, large_ids);
    std::cout << "encode " << small.size() << " B -> " << small_ids << " ids: " << small_us << " us; " << large.size()
              << " B -> " << large_ids << " ids: " << large_us << " us\n";
    std::string english;
    while (english.size() < 4096) english += "Once upon a time, there was a little girl named Lily. She loved to play outside. ";
    size_t english_ids = 0;
    const double english_us = microseconds_per_encode(tok, english, 50, english_ids);
    std::cout << "encode " << english.size() << " B of English -> " << english_ids << " ids: " << english_us << " us\n";
    // Generous, for loaded machines and Debug sanitizer builds (~20 ms there, ~1 ms in Release);
    // the ratio below is what catches quadratic behaviour.
    EXPECT_LT(english_us, 100000.0);
    EXPECT_LT(small_us, 100000.0);
    EXPECT_LT(large_us, small_us * 64.0);  // 16x the text must not cost anywhere near 256x

    // Streaming decode of the same ids gives the text back.
    std::vector<int32_t> ids = tok.encode(small, false, false);
    TokenTextStream stream(tok);
    std::string back;
    for (int32_t id : ids) back += stream.push(id);
    back += stream.finish();
    EXPECT_EQ(back, small);
}

}  // namespace
}  // namespace kiln
