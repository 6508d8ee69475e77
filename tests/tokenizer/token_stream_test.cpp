// Decoding: whole sequences and one id at a time, against the goldens' inputs and generated text.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/token_stream.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "tokenizer/golden_cases.h"

namespace kiln {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

std::string stream_all(const Tokenizer& tok, const std::vector<int32_t>& ids, DecodeOptions options = {}) {
    TokenTextStream stream(tok, options);
    std::string text;
    for (int32_t id : ids) text += stream.push(id);
    text += stream.finish();
    return text;
}

// SentencePiece loses nothing on valid UTF-8 without special tokens: the space prefix added
// at encode is the leading space stripped at decode, so every golden input comes back.
void expect_round_trips(const std::filesystem::path& vocab_path) {
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
    for (const testing::GoldenCase& c : testing::read_golden_cases(vocab_path)) {
        EXPECT_EQ(stream_all(tok, c.ids), c.text) << vocab_path.filename() << " case " << c.index << " streamed";
        EXPECT_EQ(tok.decode(c.ids), c.text) << vocab_path.filename() << " case " << c.index << " decoded";
    }
}

TEST(TokenStream, LlamaSpmGoldensRoundTrip) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
    expect_round_trips(path);
}

TEST(TokenStream, Phi3GoldensRoundTrip) {
    KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-phi-3.gguf");
    expect_round_trips(path);
}

// The goldens' `text` is llama.cpp's pieces of gen_ids joined (lstrip 0, specials hidden).
TEST(TokenStream, GeneratedTextMatchesGoldens) {
    KILN_REQUIRE_SHARED(shared);
    const std::pair<const char*, const char*> goldens[] = {
        {"stories260K.gguf", "golden/stories260K.p1.json"},
        {"stories260K.gguf", "golden/stories260K.p2.json"},
        {"stories260K.gguf", "golden/stories260K.p3.json"},
        {"TinyStories-656K.f16.gguf", "golden/TinyStories-656K.f16.p1.json"},
        {"TinyStories-656K.f16.gguf", "golden/TinyStories-656K.f16.p3.json"},
        {"tinystories-656k-q8_0.gguf", "golden/tinystories-656k-q8_0.p2.json"},
        {"synthetic/llama-f32.gguf", "golden/synthetic/llama-f32.p1.json"},
        {"synthetic/llama-f32.gguf", "golden/synthetic/llama-f32.p2.json"},
        {"synthetic/mistral-f32.gguf", "golden/synthetic/mistral-f32.p1.json"},
        {"synthetic/mistral-f32.gguf", "golden/synthetic/mistral-f32.p2.json"},
    };
    for (const auto& [model, json] : goldens) {
        ASSERT_TRUE(std::filesystem::exists(shared / "models" / model) && std::filesystem::exists(shared / json))
            << model << " or " << json << " is missing from shared/";
        const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(shared / "models" / model));
        std::ifstream in(shared / json);
        const nlohmann::json j = nlohmann::json::parse(in);
        const auto gen = j.at("gen_ids").get<std::vector<int32_t>>();
        const DecodeOptions continuation{.strip_leading_space = false};
        EXPECT_EQ(stream_all(tok, gen, continuation), j.at("text").get<std::string>()) << json;
        EXPECT_EQ(tok.decode(gen, continuation), j.at("text").get<std::string>()) << json;
    }
}

class LlamaSpmStream : public ::testing::Test {
protected:
    void SetUp() override {
        KILN_REQUIRE_SHARED_FILE(path, "models/ggml-vocab-llama-spm.gguf");
        tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(GgufFile::open(path)));
    }
    std::unique_ptr<Tokenizer> tok_;
};

TEST_F(LlamaSpmStream, SplitCharacterComesOutWhole) {
    // "🦙" has no token: four byte tokens after the prefix "▁".
    const std::vector<int32_t> ids = tok_->encode("\xF0\x9F\xA6\x99", false, false);
    ASSERT_EQ(ids, (std::vector<int32_t>{29871, 243, 162, 169, 156}));
    TokenTextStream stream(*tok_);
    EXPECT_EQ(stream.push(ids[0]), "");  // the prefix space, stripped
    EXPECT_EQ(stream.push(ids[1]), "");
    EXPECT_EQ(stream.push(ids[2]), "");
    EXPECT_EQ(stream.push(ids[3]), "");
    EXPECT_EQ(stream.push(ids[4]), "\xF0\x9F\xA6\x99");
    EXPECT_EQ(stream.finish(), "");
    // decode() joins raw bytes, so a single byte token is a partial character there.
    EXPECT_EQ(tok_->token_to_piece(243), "\xF0");
}

TEST_F(LlamaSpmStream, InvalidBytesBecomeReplacementCharacters) {
    const int32_t byte_ff = tok_->vocab().byte_token(0xFF);
    const int32_t byte_e2 = tok_->vocab().byte_token(0xE2);
    const int32_t byte_82 = tok_->vocab().byte_token(0x82);
    const int32_t byte_c = tok_->vocab().byte_token('c');
    TokenTextStream stream(*tok_);
    EXPECT_EQ(stream.push(byte_ff), kReplacement);  // can never start a character
    EXPECT_EQ(stream.push(byte_e2), "");
    EXPECT_EQ(stream.push(byte_82), "");
    EXPECT_EQ(stream.push(byte_c), std::string(kReplacement) + "c");  // one U+FFFD for E2 82
    EXPECT_EQ(stream.push(byte_e2), "");
    EXPECT_EQ(stream.finish(), kReplacement);  // unfinished at the end
}

TEST_F(LlamaSpmStream, LeadingSpaceFollowsLlamaCpp) {
    const int32_t hello = 15043;  // "▁Hello"
    const int32_t bos = tok_->vocab().special().bos;
    EXPECT_EQ(stream_all(*tok_, {hello}), "Hello");
    EXPECT_EQ(stream_all(*tok_, {hello, hello}), "Hello Hello");
    EXPECT_EQ(stream_all(*tok_, {hello}, {.strip_leading_space = false}), " Hello");
    // llama.cpp strips only the first token's piece: a BOS there (empty piece) uses it up, and
    // remove_special, dropping the BOS, keeps the space on purpose.
    EXPECT_EQ(stream_all(*tok_, {bos, hello}), " Hello");
    EXPECT_EQ(stream_all(*tok_, {bos, hello}, {.remove_special = true}), " Hello");
    EXPECT_EQ(stream_all(*tok_, {bos, hello}, {.render_special = true}), "<s> Hello");
    EXPECT_EQ(tok_->decode(std::vector<int32_t>{bos, hello}), " Hello");
    EXPECT_EQ(tok_->decode(std::vector<int32_t>{bos, hello}, {.render_special = true, .remove_special = true}), " Hello");
    EXPECT_EQ(tok_->decode(std::vector<int32_t>{hello, tok_->vocab().special().eos}, {.render_special = true}),
              "Hello</s>");
}

TEST_F(LlamaSpmStream, FinishStartsOver) {
    TokenTextStream stream(*tok_);
    EXPECT_EQ(stream.push(15043), "Hello");
    EXPECT_EQ(stream.push(15043), " Hello");
    EXPECT_EQ(stream.finish(), "");
    EXPECT_EQ(stream.push(15043), "Hello");  // the first token again
}

TEST_F(LlamaSpmStream, PieceOfIdOutsideVocabularyThrows) {
    EXPECT_THROW(tok_->token_to_piece(32000), Error);
    EXPECT_THROW(tok_->token_to_piece(-1), Error);
}

}  // namespace
}  // namespace kiln
