// Every GGUF file in ../shared/models (real models and vocab-only files) reads cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "models/gguf/gguf_reader.h"
#include "models/hparams.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

std::vector<std::filesystem::path> shared_ggufs(const std::filesystem::path& shared) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(shared / "models")) {
        if (e.is_regular_file() && e.path().extension() == ".gguf") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(SharedModels, EveryFileReads) {
    KILN_REQUIRE_SHARED(shared);
    auto files = shared_ggufs(shared);
    ASSERT_GE(files.size(), 10u) << "expected the real, vocab-only and synthetic models";
    for (const auto& path : files) {
        SCOPED_TRACE(path.string());
        GgufFile f = GgufFile::open(path);
        EXPECT_GE(f.version(), 2u);
        EXPECT_FALSE(f.metadata().empty());
        if (is_vocab_only(f)) {
            auto tok = read_tokenizer_summary(f);
            ASSERT_TRUE(tok.has_value());
            EXPECT_GT(tok->n_tokens, 0u);
        } else {
            ModelHparams h = read_hparams(f);
            EXPECT_GT(h.n_layer, 0u);
            EXPECT_GT(h.vocab_size, 0u);
            uint64_t end = 0;
            for (const auto& t : f.tensors()) end = std::max(end, f.data_offset() + t.offset + t.n_bytes);
            EXPECT_LE(end, f.file_size());
        }
    }
}

TEST(SharedModels, Stories260KFacts) {
    KILN_REQUIRE_SHARED_FILE(path, "models/stories260K.gguf");
    GgufFile f = GgufFile::open(path);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    ModelHparams h = read_hparams(f);
    EXPECT_EQ(h.arch, "llama");
    EXPECT_EQ(h.n_layer, 5u);
    EXPECT_EQ(h.n_embd, 64u);
    EXPECT_EQ(h.n_head, 8u);
    EXPECT_EQ(h.n_head_kv, 4u);
    EXPECT_EQ(h.head_dim, 8u);
    EXPECT_EQ(h.n_ff, 172u);
    EXPECT_EQ(h.context_length, 2048u);
    EXPECT_EQ(h.vocab_size, 512u);
    EXPECT_FLOAT_EQ(h.rope_freq_base, 10000.0f);
    EXPECT_FLOAT_EQ(h.norm_eps, 1e-5f);
    EXPECT_FALSE(h.tied_output);
    uint64_t params = 0;
    for (const auto& t : f.tensors()) {
        params += t.n_elements;
        EXPECT_EQ(t.type, DType::F32) << t.name;
    }
    EXPECT_EQ(f.tensors().size(), 48u);
    EXPECT_EQ(params, 292800u);
    auto tok = read_tokenizer_summary(f);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->model, "llama");
    EXPECT_EQ(tok->n_tokens, 512u);
}

TEST(SharedModels, TinyStoriesIsTiedAndMixed) {
    KILN_REQUIRE_SHARED_FILE(path, "models/TinyStories-656K.f16.gguf");
    GgufFile f = GgufFile::open(path);
    ModelHparams h = read_hparams(f);
    EXPECT_TRUE(h.tied_output);
    EXPECT_EQ(h.vocab_size, 2048u);
    EXPECT_FLOAT_EQ(h.norm_eps, 1e-6f);
    int f16 = 0, f32 = 0;
    uint64_t params = 0;
    for (const auto& t : f.tensors()) {
        f16 += t.type == DType::F16;
        f32 += t.type == DType::F32;
        params += t.n_elements;
    }
    EXPECT_EQ(f16, 15);
    EXPECT_EQ(f32, 5);
    EXPECT_EQ(params, 656000u);
}

}  // namespace
}  // namespace kiln
