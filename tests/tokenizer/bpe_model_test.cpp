// Byte-level BPE on hand-written vocabularies: merge order, fallbacks, the one-line errors for
// malformed merges and pre-tokenizers, and each pre-tokenizer's word splits.
#include <gtest/gtest.h>

#include <functional>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"
#include "models/tokenizer/byte_level.h"
#include "models/tokenizer/pre_tokenizer.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {
namespace {

const std::string kG = "\xC4\xA0";  // Ġ, GPT-2's spelling of the space byte

// Ids: 0 a, 1 b, 2 c, 3 Ġ, 4 ab, 5 abc, 6 Ġa, 7 <|end|> (control), 8 <x> (user-defined).
GgufWriter tiny_bpe() {
    GgufWriter w;
    w.set("general.architecture", std::string("gpt2"));
    w.set("tokenizer.ggml.model", std::string("gpt2"));
    w.set("tokenizer.ggml.pre", std::string("gpt-2"));
    w.set("tokenizer.ggml.tokens", gguf_string_array({"a", "b", "c", kG, "ab", "abc", kG + "a", "<|end|>", "<x>"}));
    w.set("tokenizer.ggml.token_type", gguf_i32_array({1, 1, 1, 1, 1, 1, 1, 3, 4}));
    w.set("tokenizer.ggml.merges", gguf_string_array({"a b", "ab c", kG + " a", "c c"}));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{7});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{7});
    return w;
}

Tokenizer load(const GgufWriter& w) {
    const std::vector<uint8_t> bytes = w.to_bytes();
    return Tokenizer::from_gguf(GgufFile::parse(bytes, "m.gguf"));
}

std::string load_error(const std::function<void(GgufWriter&)>& edit) {
    GgufWriter w = tiny_bpe();
    edit(w);
    try {
        load(w);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(BpeModel, MergesByRankThenLeftmost) {
    const Tokenizer tok = load(tiny_bpe());
    EXPECT_EQ(tok.encode("abc", false, false), (std::vector<int32_t>{5}));
    // " ab": (a b) has rank 0, before (Ġ a) at rank 2, so Ġ stays alone.
    EXPECT_EQ(tok.encode(" ab", false, false), (std::vector<int32_t>{3, 4}));
    EXPECT_EQ(tok.encode(" a", false, false), (std::vector<int32_t>{6}));
    EXPECT_FALSE(tok.vocab().add_bos());  // gpt-2 pre-tokenizer: no BOS unless the key says so
    EXPECT_EQ(tok.encode("abc", true, false), (std::vector<int32_t>{5}));
}

TEST(BpeModel, PiecesThatAreNotTokensFallBackToOneByteTexts) {
    const Tokenizer tok = load(tiny_bpe());
    // "c c" merges to "cc", not a token: llama.cpp looks up each byte ("c", "c").
    EXPECT_EQ(tok.encode("cc", false, false), (std::vector<int32_t>{2, 2}));
    // "d" has no token at all and is dropped, as in llama.cpp.
    EXPECT_EQ(tok.encode("adb", false, false), (std::vector<int32_t>{0, 1}));
}

TEST(BpeModel, SpecialAndUserDefinedTokens) {
    const Tokenizer tok = load(tiny_bpe());
    EXPECT_EQ(tok.encode("ab<|end|>abc", false, true), (std::vector<int32_t>{4, 7, 5}));
    EXPECT_EQ(tok.encode("ab<x>c", false, false), (std::vector<int32_t>{4, 8, 2}));  // user-defined: always
    EXPECT_EQ(tok.token_to_piece(6), " a");
    EXPECT_EQ(tok.token_to_piece(7), "");
    EXPECT_EQ(tok.token_to_piece(7, true), "<|end|>");
    EXPECT_EQ(tok.token_to_piece(8), "<x>");
}

TEST(BpeModel, MalformedMergesAndPreTokenizersAreErrors) {
    EXPECT_EQ(load_error([](GgufWriter&) {}), "");
    std::string e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.merges", gguf_string_array({"a b", "ab"})); });
    EXPECT_EQ(e, "m.gguf: key 'tokenizer.ggml.merges': merge 1 'ab' is not two texts separated by a space");
    // A merge holding a newline is quoted escaped, keeping the message on one line.
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.merges", gguf_string_array({"a\nb"})); });
    EXPECT_EQ(e, "m.gguf: key 'tokenizer.ggml.merges': merge 0 'a\\nb' is not two texts separated by a space");
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.merges", gguf_string_array({"a "})); });
    EXPECT_NE(e.find("merge 0 'a '"), std::string::npos) << e;
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.merges", gguf_i32_array({1})); });
    EXPECT_NE(e.find("tokenizer.ggml.merges"), std::string::npos) << e;
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.pre", std::string("klingon")); });
    EXPECT_NE(e.find("key 'tokenizer.ggml.pre': pre-tokenizer 'klingon' is not supported"), std::string::npos) << e;
    // Names from the file are quoted escaped (fuzz_gguf, finding 6).
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.pre", std::string("kl\ningon")); });
    EXPECT_NE(e.find("pre-tokenizer 'kl\\ningon' is not supported"), std::string::npos) << e;
    e = load_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", std::string("\n")); });
    EXPECT_NE(e.find("key 'tokenizer.ggml.model': tokenizer model '\\n' is not supported"), std::string::npos) << e;
    e = load_error([](GgufWriter& w) {
        GgufWriter fresh;
        fresh.set("general.architecture", std::string("gpt2"));
        fresh.set("tokenizer.ggml.model", std::string("gpt2"));
        fresh.set("tokenizer.ggml.tokens", gguf_string_array({"a", "b"}));
        w = fresh;
    });
    EXPECT_NE(e.find("key 'tokenizer.ggml.merges': missing"), std::string::npos) << e;
}

TEST(BpeModel, Llama3PreTokenizerAddsBosAndTakesWholeTokens) {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.pre", std::string("llama-bpe"));
    // Without merges "abc" still is one token: Llama 3 ignores merges for whole-token words.
    w.set("tokenizer.ggml.merges", gguf_string_array({"c c"}));
    const Tokenizer tok = load(w);
    EXPECT_TRUE(tok.vocab().add_bos());
    EXPECT_EQ(tok.encode("abc", true, false), (std::vector<int32_t>{7, 5}));
    EXPECT_EQ(tok.encode("ab", false, false), (std::vector<int32_t>{4}));
}

// Words of `text` under pre-tokenizer `pre`.
std::vector<std::string> words(std::string_view pre, const std::string& text) {
    const PreTokenizer* p = find_pre_tokenizer(pre);
    EXPECT_NE(p, nullptr) << pre;
    std::vector<uint32_t> cps;
    decode_utf8_lenient(text, cps);
    std::vector<uint32_t> ends;
    pre_tokenize(*p, cps, ends);
    std::vector<std::string> out;
    uint32_t begin = 0;
    for (uint32_t end : ends) {
        std::string w;
        for (uint32_t i = begin; i < end; ++i) append_utf8(w, cps[i]);
        out.push_back(w);
        begin = end;
    }
    return out;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
    EXPECT_EQ(words("gpt-2", "Hello world's  test 123!!\n"),
              (Words{"Hello", " world", "'s", " ", " test", " 123", "!!", "\n"}));
    EXPECT_EQ(words("gpt-2", "IT'S"), (Words{"IT", "'", "S"}));  // contractions are case-sensitive
    EXPECT_EQ(words("mpt", "a\t b"), (Words{"a", "\t", " b"}));
    EXPECT_TRUE(words("gpt-2", "").empty());
}

TEST(PreTokenizer, Llama3AndQwen2) {
    EXPECT_EQ(words("llama-bpe", "IT'S 12345 x\r\n\n  y"),
              (Words{"IT", "'S", " ", "123", "45", " x", "\r\n\n", " ", " y"}));
    EXPECT_EQ(words("qwen2", "a 123"), (Words{"a", " ", "1", "2", "3"}));
    EXPECT_EQ(words("qwen2", "\"hi\"!\n\nok"), (Words{"\"hi", "\"!\n\n", "ok"}));
}

TEST(PreTokenizer, OtherFamilies) {
    EXPECT_EQ(words("falcon", "x 12345"), (Words{"x", " ", "123", "45"}));
    EXPECT_EQ(words("starcoder", "x12"), (Words{"x", "1", "2"}));
    EXPECT_EQ(words("default", "a-b 1234"), (Words{"a", "-", "b", " ", "123", "4"}));
    EXPECT_EQ(words("deepseek-coder", "ab, 12\n"), (Words{"ab", ",", " ", "1", "2", "\n"}));
    // \s+$ takes trailing whitespace; U+3000 is whitespace, not the punctuation range it sits in.
    EXPECT_EQ(words("deepseek-llm", "Ab\xE4\xB8\xAD\xE6\x96\x87 7 \xE3\x80\x80"),
              (Words{"Ab", "\xE4\xB8\xAD\xE6\x96\x87", " ", "7", " \xE3\x80\x80"}));
    EXPECT_EQ(find_pre_tokenizer("klingon"), nullptr);
    EXPECT_NE(find_pre_tokenizer(""), nullptr);  // no key: llama.cpp's default rules
}

TEST(ByteLevel, MapsEveryByteAndBack) {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    std::string spelled;
    for (char c : all) spelled += byte_level_char(static_cast<uint8_t>(c));
    EXPECT_EQ(byte_level_char(' '), kG);
    EXPECT_EQ(byte_level_char('A'), "A");
    std::string back;
    append_byte_level_decoded(spelled, back);
    EXPECT_EQ(back, all);
}

TEST(ByteLevel, LenientUtf8LikeLlamaCpp) {
    std::vector<uint32_t> cps;
    decode_utf8_lenient("a\xFF\xE2\x82" "b\xC0\x80\xF4\x90\x80\x80", cps);
    // Bad lead, cut-off sequence (each byte alone), overlong NUL kept, > U+10FFFF replaced.
    EXPECT_EQ(cps, (std::vector<uint32_t>{'a', 0xFFFD, 0xFFFD, 0xFFFD, 'b', 0, 0xFFFD}));
}

TEST(Decode, CleanSpacesAsLlamaCpp) {
    std::string s = " Hello , world ! It 's I 'm we 're , ' quoted ' don 't";
    Tokenizer::clean_spaces(s);
    // " ' " loses both spaces, so the closing quote glues to "don" too (llama.cpp does the same).
    EXPECT_EQ(s, " Hello, world! It's I'm we're,'quoted'don 't");
}

}  // namespace
}  // namespace kiln
