// Vocabularies written by hand: what loads, and the one-line errors for what must not.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

const std::string kSpace = "\xE2\x96\x81";  // ▁

GgufWriter small_vocab() {
    GgufWriter w;
    w.set("general.architecture", std::string("llama"));
    w.set("tokenizer.ggml.model", std::string("llama"));
    w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "<0x41>", kSpace + "a", "a", kSpace,
                                                      "<0x0A>"}));
    w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0, 0, 0, -1, -2, -3, 0}));
    w.set("tokenizer.ggml.token_type", gguf_i32_array({2, 3, 3, 6, 1, 1, 1, 6}));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    w.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
    return w;
}

// Loads the edited vocabulary; returns the error message, or "" when it loads.
std::string load_error(const std::function<void(GgufWriter&)>& edit) {
    GgufWriter w = small_vocab();
    edit(w);
    const std::vector<uint8_t> bytes = w.to_bytes();
    try {
        Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Vocab, SmallVocabularyLoadsAndEncodes) {
    const std::vector<uint8_t> bytes = small_vocab().to_bytes();
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
    const Vocab& v = tok.vocab();
    EXPECT_EQ(v.size(), 8);
    EXPECT_EQ(v.text(4), kSpace + "a");
    EXPECT_EQ(v.find(kSpace + "a"), 4);
    EXPECT_EQ(v.find("b"), kNoToken);
    EXPECT_EQ(v.byte_token('A'), 3);
    EXPECT_EQ(v.byte_token('\n'), 7);
    EXPECT_EQ(v.byte_token('B'), kNoToken);
    EXPECT_EQ(v.byte_value(3), 'A');
    EXPECT_TRUE(v.add_bos());
    EXPECT_FALSE(v.add_eos());
    EXPECT_TRUE(v.add_space_prefix());
    // "▁aA\n": ▁a merges, A and \n fall back to byte tokens.
    EXPECT_EQ(tok.encode("aA\n", true, false), (std::vector<int32_t>{1, 4, 3, 7}));
    // "b" has neither a token nor a byte token: <unk>.
    EXPECT_EQ(tok.encode("ab", false, false), (std::vector<int32_t>{4, 0}));
    EXPECT_EQ(tok.decode(std::vector<int32_t>{4, 3, 7}), "aA\n");
}

TEST(Vocab, HigherScoreMergesFirstAndTiesGoLeft) {
    GgufWriter w = small_vocab();
    // "aa" (score -1) beats "▁a" (-2): "▁aa" -> ▁ + aa. Equal "ab" scores: the leftmost pair wins.
    w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", kSpace, "a", "aa", kSpace + "a", "b",
                                                      "ab", "ba"}));
    w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0, 0, -9, -9, -1, -2, -9, -5, -5}));
    w.set("tokenizer.ggml.token_type", gguf_i32_array({2, 3, 3, 1, 1, 1, 1, 1, 1, 1}));
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
    EXPECT_EQ(tok.encode("aa", false, false), (std::vector<int32_t>{3, 5}));
    EXPECT_EQ(tok.encode("a", false, false), (std::vector<int32_t>{6}));
    // "▁aba": ▁a(-2) first, then "ba"(-5) is the only pair left -> ▁a + ba.
    EXPECT_EQ(tok.encode("aba", false, false), (std::vector<int32_t>{6, 9}));
    // "bab" without prefix candidates: ba and ab tie at -5; the left pair (ba) merges.
    EXPECT_EQ(tok.encode("bab", false, false), (std::vector<int32_t>{3, 9, 7}));
}

TEST(Vocab, DuplicateTextsResolveToTheLowestId) {
    GgufWriter w = small_vocab();
    w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "x", kSpace, "x", "", ""}));
    w.set("tokenizer.ggml.token_type", gguf_i32_array({2, 3, 3, 1, 1, 1, 1, 1}));
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
    EXPECT_EQ(tok.vocab().find("x"), 3);
    EXPECT_EQ(tok.token_to_piece(5), "x");  // the duplicate still decodes
    EXPECT_EQ(tok.vocab().find(""), kNoToken);
    EXPECT_EQ(tok.encode("x", false, false), (std::vector<int32_t>{4, 3}));
}

TEST(Vocab, MalformedByteToken) {
    const std::string e = load_error([](GgufWriter& w) {
        w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "<0xZZ>", "a", "b", "c", "d"}));
    });
    EXPECT_NE(e.find("m.gguf"), std::string::npos) << e;
    EXPECT_NE(e.find("tokenizer.ggml.tokens"), std::string::npos) << e;
    EXPECT_NE(e.find("<0xZZ>"), std::string::npos) << e;
    EXPECT_NE(load_error([](GgufWriter& w) {
                  w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "<0x4>", "a", "b", "c", "d"}));
              }).find("tokenizer.ggml.tokens"),
              std::string::npos);
}

// The token's text is quoted escaped: one holding a newline must not break the message.
TEST(Vocab, MalformedByteTokenIsQuotedOnOneLine) {
    const std::string e = load_error([](GgufWriter& w) {
        w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "<0x\n>", "a", "b", "c", "d"}));
    });
    EXPECT_NE(e.find("token 3 '<0x\\n>' has byte type"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(Vocab, ShortScoreArray) {
    const std::string e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0, 0})); });
    EXPECT_NE(e.find("tokenizer.ggml.scores"), std::string::npos) << e;
    EXPECT_NE(e.find("3 entries for 8 tokens"), std::string::npos) << e;
}

TEST(Vocab, ShortTokenTypeArray) {
    const std::string e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.token_type", gguf_i32_array({1, 1})); });
    EXPECT_NE(e.find("tokenizer.ggml.token_type"), std::string::npos) << e;
}

TEST(Vocab, TokenTypeOutOfRange) {
    const std::string e = load_error(
        [](GgufWriter& w) { w.set("tokenizer.ggml.token_type", gguf_i32_array({2, 3, 3, 6, 1, 9, 1, 6})); });
    EXPECT_NE(e.find("tokenizer.ggml.token_type"), std::string::npos) << e;
    EXPECT_NE(e.find("token 5 has type 9"), std::string::npos) << e;
}

TEST(Vocab, NanScore) {
    const std::string e = load_error(
        [](GgufWriter& w) { w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0, 0, 0, NAN, 0, 0, 0})); });
    EXPECT_NE(e.find("tokenizer.ggml.scores"), std::string::npos) << e;
}

TEST(Vocab, SpecialIdOutsideVocabulary) {
    const std::string e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.bos_token_id", uint32_t{8}); });
    EXPECT_NE(e.find("tokenizer.ggml.bos_token_id"), std::string::npos) << e;
    EXPECT_NE(e.find("outside the vocabulary"), std::string::npos) << e;
    const std::string e2 = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.eot_token_id", int32_t{-5}); });
    EXPECT_NE(e2.find("tokenizer.ggml.eot_token_id"), std::string::npos) << e2;
    // -1 (or its u32 form) means "none".
    EXPECT_EQ(load_error([](GgufWriter& w) { w.set("tokenizer.ggml.padding_token_id", uint32_t{0xFFFFFFFF}); }), "");
}

TEST(Vocab, AddBosWithoutBosToken) {
    const std::string e = load_error([](GgufWriter& w) {
        w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>"}));
        w.set("tokenizer.ggml.scores", gguf_f32_array({0}));
        w.set("tokenizer.ggml.token_type", gguf_i32_array({2}));
        w.set("tokenizer.ggml.bos_token_id", int32_t{-1});
        w.set("tokenizer.ggml.eos_token_id", int32_t{-1});
        w.set("tokenizer.ggml.add_bos_token", true);
    });
    EXPECT_NE(e.find("tokenizer.ggml.add_bos_token"), std::string::npos) << e;
}

TEST(Vocab, MissingTokenListOrModel) {
    const std::vector<uint8_t> bytes = [] {
        GgufWriter w;
        w.set("tokenizer.ggml.model", std::string("llama"));
        return w.to_bytes();
    }();
    try {
        Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.tokens"), std::string::npos) << e.what();
    }
    GgufWriter w;
    w.set("tokenizer.ggml.tokens", gguf_string_array({"a"}));
    const std::vector<uint8_t> no_model = w.to_bytes();
    try {
        Tokenizer::from_gguf(GgufFile::parse(no_model, "m.gguf"));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model"), std::string::npos) << e.what();
    }
}

TEST(Vocab, SpaceAndBosFlagsFromMetadata) {
    GgufWriter w = small_vocab();
    w.set("tokenizer.ggml.add_space_prefix", false);
    w.set("tokenizer.ggml.add_bos_token", false);
    w.set("tokenizer.ggml.add_eos_token", true);
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
    EXPECT_FALSE(tok.vocab().add_space_prefix());
    // No prefix: "a" stays "a", and decode keeps a leading space it meets.
    EXPECT_EQ(tok.encode("a", true, false), (std::vector<int32_t>{5, 2}));
    EXPECT_EQ(tok.decode(std::vector<int32_t>{4}), " a");
}

TEST(Vocab, UnsupportedTokenizerModel) {
    // "gpt2" is byte-level BPE: this SentencePiece vocabulary has no merges for it.
    EXPECT_NE(load_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", std::string("gpt2")); })
                  .find("key 'tokenizer.ggml.merges': missing"),
              std::string::npos);
    EXPECT_NE(load_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", std::string("wordpiece?")); })
                  .find("tokenizer.ggml.model"),
              std::string::npos);
}

TEST(Vocab, RealBpeFileLoads) {
    KILN_REQUIRE_SHARED_FILE(path, "models/synthetic/qwen2-f32.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
    EXPECT_EQ(tok.vocab().model(), "gpt2");
    EXPECT_EQ(tok.vocab().pre(), "qwen2");
    EXPECT_FALSE(tok.vocab().add_bos());
}

}  // namespace
}  // namespace kiln
