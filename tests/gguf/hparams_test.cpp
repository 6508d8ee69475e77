// Hyperparameters and tokenizer facts out of range are rejected at load, naming the key.
#include <gtest/gtest.h>

#include <functional>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"
#include "models/hparams.h"

namespace kiln {
namespace {

GgufWriter llama_metadata() {
    GgufWriter w;
    w.set("general.architecture", std::string("llama"));
    w.set("llama.block_count", uint32_t{2});
    w.set("llama.embedding_length", uint32_t{64});
    w.set("llama.attention.head_count", uint32_t{8});
    w.set("llama.attention.head_count_kv", uint32_t{4});
    w.set("llama.feed_forward_length", uint32_t{128});
    w.set("llama.context_length", uint32_t{256});
    w.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set("tokenizer.ggml.model", std::string("llama"));
    w.set("tokenizer.ggml.tokens", gguf_string_array({"<unk>", "<s>", "</s>", "a"}));
    w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0, 0, -1}));
    w.set("tokenizer.ggml.token_type", gguf_i32_array({2, 3, 3, 1}));
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    return w;
}

std::string load_error(const std::function<void(GgufWriter&)>& edit) {
    GgufWriter w = llama_metadata();
    edit(w);
    std::vector<uint8_t> bytes = w.to_bytes();
    try {
        GgufFile f = GgufFile::parse(bytes, "m.gguf");
        read_hparams(f);
        read_tokenizer_summary(f);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Hparams, ValidMetadataReads) {
    std::vector<uint8_t> bytes = llama_metadata().to_bytes();
    GgufFile f = GgufFile::parse(bytes, "m.gguf");
    ModelHparams h = read_hparams(f);
    EXPECT_EQ(h.head_dim, 8u);
    EXPECT_EQ(h.rope_dims, 8u);
    EXPECT_EQ(h.vocab_size, 4u);
    EXPECT_EQ(h.rope_scaling, "none");
    auto t = read_tokenizer_summary(f);
    ASSERT_TRUE(t);
    ASSERT_EQ(t->special.size(), 2u);
    EXPECT_EQ(t->special[0].text, "<s>");
}

struct BadCase {
    const char* name;
    std::function<void(GgufWriter&)> edit;
    const char* key_in_message;
};

TEST(Hparams, OutOfRangeValuesNameTheKey) {
    const BadCase cases[] = {
        {"no arch", [](GgufWriter& w) { w.set("general.architecture", std::string("")); }, "general.architecture"},
        {"arch with a newline", [](GgufWriter& w) { w.set("general.architecture", std::string("ll\nama")); },
         "key 'general.architecture': 'll\\nama' is not an architecture name"},
        {"zero layers", [](GgufWriter& w) { w.set("llama.block_count", uint32_t{0}); }, "llama.block_count"},
        {"huge layers", [](GgufWriter& w) { w.set("llama.block_count", uint32_t{100000}); }, "llama.block_count"},
        {"zero heads", [](GgufWriter& w) { w.set("llama.attention.head_count", uint32_t{0}); }, "head_count"},
        {"kv heads do not divide", [](GgufWriter& w) { w.set("llama.attention.head_count_kv", uint32_t{3}); },
         "llama.attention.head_count_kv"},
        {"zero kv heads", [](GgufWriter& w) { w.set("llama.attention.head_count_kv", uint32_t{0}); },
         "llama.attention.head_count_kv"},
        {"heads do not divide embd", [](GgufWriter& w) { w.set("llama.attention.head_count", uint32_t{6}); },
         "llama.attention.head_count"},
        {"negative eps", [](GgufWriter& w) { w.set("llama.attention.layer_norm_rms_epsilon", -1e-5f); },
         "layer_norm_rms_epsilon"},
        {"nan eps", [](GgufWriter& w) { w.set("llama.attention.layer_norm_rms_epsilon", std::numeric_limits<float>::quiet_NaN()); },
         "layer_norm_rms_epsilon"},
        {"zero context", [](GgufWriter& w) { w.set("llama.context_length", uint32_t{0}); }, "llama.context_length"},
        {"negative context", [](GgufWriter& w) { w.set("llama.context_length", int32_t{-5}); }, "llama.context_length"},
        {"string layers", [](GgufWriter& w) { w.set("llama.block_count", std::string("2")); }, "llama.block_count"},
        {"odd rope dims", [](GgufWriter& w) { w.set("llama.rope.dimension_count", uint32_t{7}); }, "rope.dimension_count"},
        {"rope dims > head", [](GgufWriter& w) { w.set("llama.rope.dimension_count", uint32_t{16}); }, "rope.dimension_count"},
        {"zero rope base", [](GgufWriter& w) { w.set("llama.rope.freq_base", 0.0f); }, "rope.freq_base"},
        {"bos outside vocab", [](GgufWriter& w) { w.set("tokenizer.ggml.bos_token_id", uint32_t{4}); }, "bos_token_id"},
        {"eos negative", [](GgufWriter& w) { w.set("tokenizer.ggml.eos_token_id", int32_t{-7}); }, "eos_token_id"},
        {"short scores", [](GgufWriter& w) { w.set("tokenizer.ggml.scores", gguf_f32_array({0, 0})); }, "tokenizer.ggml.scores"},
        {"short types", [](GgufWriter& w) { w.set("tokenizer.ggml.token_type", gguf_i32_array({1})); },
         "tokenizer.ggml.token_type"},
        {"tokens not strings", [](GgufWriter& w) { w.set("tokenizer.ggml.tokens", gguf_i32_array({1, 2, 3, 4})); },
         "tokenizer.ggml.tokens"},
        {"scores wrong type", [](GgufWriter& w) { w.set("tokenizer.ggml.scores", gguf_i32_array({1, 2, 3, 4})); },
         "tokenizer.ggml.scores"},
    };
    for (const BadCase& c : cases) {
        std::string msg = load_error(c.edit);
        EXPECT_NE(msg, "") << c.name << ": accepted";
        EXPECT_NE(msg.find(c.key_in_message), std::string::npos) << c.name << ": " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name;
    }
}

}  // namespace
}  // namespace kiln
