#include "models/synth/synth_vocab.h"

#include <cstdio>
#include <string>
#include <vector>

#include "graph/error.h"
#include "models/tokenizer/byte_level.h"

namespace kiln {
namespace {

// Token types as GGUF stores them.
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

// Specials, 256 byte tokens, then word pieces ("▁" marks a leading space) by descending score.
void write_sentencepiece(GgufWriter& w, uint32_t n_vocab) {
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {kUnknown, kControl, kControl};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.push_back(buf);
        types.push_back(kByte);
    }
    const std::string space = "\xe2\x96\x81";
    std::vector<std::string> pieces;
    for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(space + c);
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(std::string{a, b});
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(space + a + b);
    for (size_t i = 0; tokens.size() < n_vocab; ++i) {
        tokens.push_back(i < pieces.size() ? pieces[i] : "<piece" + std::to_string(i) + ">");
        types.push_back(i < pieces.size() ? kNormal : kUserDefined);
    }
    tokens.resize(n_vocab);
    types.resize(n_vocab);
    std::vector<float> scores(n_vocab, 0.0f);
    for (uint32_t i = 0; i < n_vocab; ++i) scores[i] = types[i] == kNormal ? -static_cast<float>(i) : 0.0f;
    w.set("tokenizer.ggml.model", std::string("llama"));
    w.set("tokenizer.ggml.tokens", gguf_string_array(tokens));
    w.set("tokenizer.ggml.scores", gguf_f32_array(scores));
    w.set("tokenizer.ggml.token_type", gguf_i32_array(types));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    w.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
    w.set("tokenizer.ggml.add_bos_token", true);
}

// GPT-2 style: the 256 byte characters, merges of letters ("Ġ" + letter, letter pairs, "Ġ" +
// pair), fillers, and three ChatML specials at the end, with a ChatML template.
void write_byte_level_bpe(GgufWriter& w, const SynthShape& s) {
    const uint32_t n_vocab = s.n_vocab;
    if (n_vocab < 256 + 3) throw Error("synth: a byte-level vocabulary needs at least 259 tokens");
    std::vector<std::string> tokens, merges;
    std::vector<int32_t> types;
    for (int b = 0; b < 256; ++b) {
        tokens.emplace_back(byte_level_char(static_cast<uint8_t>(b)));
        types.push_back(kNormal);
    }
    const std::string space(byte_level_char(' '));
    const uint32_t n_merged = n_vocab - 3;
    auto merge = [&](const std::string& a, const std::string& b) {
        if (tokens.size() >= n_merged) return;
        merges.push_back(a + " " + b);
        tokens.push_back(a + b);
        types.push_back(kNormal);
    };
    for (char c = 'a'; c <= 'z'; ++c) merge(space, std::string(1, c));
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) merge(std::string(1, a), std::string(1, b));
    for (char a = 'a'; a <= 'z'; ++a)
        for (char b = 'a'; b <= 'z'; ++b) merge(space + a, std::string(1, b));
    // Fillers no merge reaches: they only make the vocabulary (and the output head) full size.
    for (size_t i = 0; tokens.size() < n_merged; ++i) {
        tokens.push_back("<|filler_" + std::to_string(i) + "|>");
        types.push_back(kUserDefined);
    }
    const uint32_t eos = n_merged, im_end = n_merged + 2;  // <|im_start|> sits between them
    for (const char* special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
        tokens.emplace_back(special);
        types.push_back(kControl);
    }
    w.set("tokenizer.ggml.model", std::string("gpt2"));
    w.set("tokenizer.ggml.pre", s.bpe_pre);
    w.set("tokenizer.ggml.tokens", gguf_string_array(tokens));
    w.set("tokenizer.ggml.token_type", gguf_i32_array(types));
    w.set("tokenizer.ggml.merges", gguf_string_array(merges));
    w.set("tokenizer.ggml.bos_token_id", eos);
    w.set("tokenizer.ggml.eos_token_id", eos);
    w.set("tokenizer.ggml.eot_token_id", im_end);
    w.set("tokenizer.ggml.padding_token_id", eos);
    w.set("tokenizer.ggml.add_bos_token", false);
    w.set("tokenizer.chat_template",
          std::string("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                      "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                      "{% endif %}"));
}

}  // namespace

void write_builtin_vocab(GgufWriter& w, const SynthShape& shape) {
    if (shape.vocab == SynthVocab::SentencePiece) {
        write_sentencepiece(w, shape.n_vocab);
    } else {
        write_byte_level_bpe(w, shape);
    }
}

uint32_t copy_vocab(GgufWriter& w, const GgufFile& from) {
    const GgufArray* tokens = from.get_array("tokenizer.ggml.tokens", GgufType::STRING);
    if (!tokens || tokens->empty()) {
        throw Error(from.name() + ": no tokenizer.ggml.tokens to take a vocabulary from");
    }
    for (const GgufKeyValue& kv : from.metadata()) {
        if (kv.key.rfind("tokenizer.", 0) == 0) w.set(kv.key, kv.value);
    }
    return static_cast<uint32_t>(tokens->size());
}

}  // namespace kiln
