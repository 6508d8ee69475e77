// Models kiln writes itself (`kiln synth`), one per weight dtype, run end to end on the CPU
// backend and on the reference backend: the two agree for every dtype.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference_backend.h"
#include "graph/error.h"
#include "golden_test_support.h"
#include "support/shared_dir.h"
#include "models/model.h"
#include "models/session/session.h"
#include "models/quantize/quant_mix.h"
#include "models/quantize/quantize_model.h"
#include "models/synth/synthetic.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {
namespace {

using namespace kiln::testing;

class SyntheticModels : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::temp_directory_path() / ("kiln-synth-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    static std::filesystem::path write(DType t, const std::string& shape = "tiny", unsigned threads = 0) {
        SynthOptions o;
        o.shape = *synth_shape(shape);
        o.dtype = t;
        o.seed = 5;
        o.threads = threads;
        const auto path = dir_ / (shape + "-" + std::string(dtype_name(t)) + "-" + std::to_string(threads) + ".gguf");
        write_synthetic_model(path, o);
        return path;
    }

    static std::vector<uint8_t> bytes_of(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    static std::vector<float> logits(const Model& m, Backend& b, const std::vector<int32_t>& prompt) {
        SessionOptions o;
        o.n_ctx = 64;
        o.logits_all = true;
        Session s(m, b, o);
        s.decode(prompt);
        std::vector<float> all;
        for (size_t i = 0; i < prompt.size(); ++i) {
            auto row = s.logits_of(static_cast<int>(i));
            all.insert(all.end(), row.begin(), row.end());
        }
        return all;
    }

    static inline std::filesystem::path dir_;
};

TEST_F(SyntheticModels, EveryWeightDtypeMatchesTheReference) {
    const std::vector<int32_t> prompt = {1, 300, 301, 302, 420, 7, 288, 299, 500, 2, 3};
    CpuBackend cpu(CpuOptions{2, std::nullopt});
    ReferenceBackend ref;
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q5_0, DType::Q5_1, DType::Q4_0, DType::Q4_1,
                    DType::IQ4_NL, DType::Q6_K, DType::Q5_K, DType::Q4_K, DType::Q3_K, DType::Q2_K}) {
        Model m = Model::load(write(t));
        const double e = nmse(logits(m, cpu, prompt), logits(m, ref, prompt));
        std::printf("%-7s CPU vs reference NMSE %.3g\n", std::string(dtype_name(t)).c_str(), e);
        // Float weights differ only by rounding (f16 attention over the f16 cache); quantized
        // ones also by the CPU's 8-bit activations, which the reference does not quantize.
        const bool quantized = info(t).quantized;
        EXPECT_LT(e, quantized ? 2e-3 : 1e-5) << dtype_name(t);
    }
}

// Every architecture synth writes (qwen2 biases, qwen3's per-head norms and wider heads,
// smollm3's RoPE-less layers) runs on the CPU as the reference computes it.
TEST_F(SyntheticModels, EveryArchitectureMatchesTheReference) {
    CpuBackend cpu(CpuOptions{2, std::nullopt});
    ReferenceBackend ref;
    for (const std::string shape : {"qwen2-tiny", "qwen3-tiny", "smollm3-tiny"}) {
        for (DType t : {DType::F32, DType::Q4_K}) {
            Model m = Model::load(write(t, shape));
            const SynthShape s = *synth_shape(shape);
            EXPECT_EQ(m.file().get_string("general.architecture"), s.arch);
            EXPECT_EQ(m.hparams().head_dim, s.head_size()) << shape;
            EXPECT_EQ(m.hparams().tied_output, s.tied_output) << shape;
            EXPECT_EQ(m.hparams().vocab_size, s.n_vocab) << shape;
            const Tokenizer tok = Tokenizer::from_gguf(m.file());
            const std::string text = "the quick brown fox";
            const auto ids = tok.encode(text, true, false);
            EXPECT_EQ(tok.decode(ids), text) << shape;
            EXPECT_LT(ids.size(), text.size()) << shape << ": merges should join letters";
            const double e = nmse(logits(m, cpu, ids), logits(m, ref, ids));
            std::printf("%-13s %-5s CPU vs reference NMSE %.3g\n", shape.c_str(), std::string(dtype_name(t)).c_str(), e);
            EXPECT_LT(e, info(t).quantized ? 2e-3 : 1e-5) << shape << " " << dtype_name(t);
        }
    }
}

// The mixture-of-experts shapes: experts stacked [in, out, experts] in the matrices' dtype, the
// router f32 whatever the dtype (as llama-quantize leaves it), the hyperparameters llama.cpp
// reads, and f32 logits that match the reference (quantized MoE differs from the float reference
// at routing near-ties: tests/model/routing_margins.h); kiln quantize keeps 3-D experts and the
// f32 router.
TEST_F(SyntheticModels, MixturesOfExperts) {
    CpuBackend cpu(CpuOptions{2, std::nullopt});
    ReferenceBackend ref;
    const std::vector<int32_t> prompt = {1, 300, 301, 302, 420, 7, 288, 299, 500, 2, 3};
    for (const std::string shape : {"mixtral-tiny", "qwen3moe-tiny", "qwen2moe-tiny"}) {
        const SynthShape s = *synth_shape(shape);
        const auto q4 = write(DType::Q4_K, shape);
        Model mq = Model::load(q4);
        EXPECT_EQ(mq.hparams().n_expert, s.n_expert) << shape;
        EXPECT_EQ(mq.hparams().n_expert_used, s.n_expert_used) << shape;
        EXPECT_EQ(mq.hparams().n_ff_exp, s.n_ff_exp) << shape;
        EXPECT_EQ(mq.hparams().n_ff_shexp, s.n_ff_shexp) << shape;
        const GgufTensorInfo* experts = mq.file().find_tensor("blk.1.ffn_down_exps.weight");
        ASSERT_NE(experts, nullptr) << shape;
        EXPECT_EQ(experts->dims, (std::vector<uint64_t>{s.n_ff_exp, s.n_embd, s.n_expert})) << shape;
        EXPECT_EQ(experts->type, DType::Q4_K) << shape;
        EXPECT_EQ(mq.file().find_tensor("blk.0.ffn_gate_inp.weight")->type, DType::F32) << shape;
        EXPECT_EQ(logits(mq, cpu, prompt).size(), prompt.size() * s.n_vocab) << shape;

        Model mf = Model::load(write(DType::F32, shape));
        const double e = nmse(logits(mf, cpu, prompt), logits(mf, ref, prompt));
        std::printf("%-13s f32   CPU vs reference NMSE %.3g\n", shape.c_str(), e);
        EXPECT_LT(e, 1e-5) << shape;

        const auto requantized = dir_ / (shape + "-q4_k_m.gguf");
        quantize_model(write(DType::F32, shape), requantized, quant_mix("Q4_K_M"), {});
        Model mk = Model::load(requantized);
        EXPECT_EQ(mk.file().find_tensor("blk.0.ffn_gate_inp.weight")->type, DType::F32) << shape;
        EXPECT_EQ(mk.file().find_tensor("blk.0.ffn_up_exps.weight")->dims.size(), 3u) << shape;
        EXPECT_TRUE(info(mk.file().find_tensor("blk.0.ffn_up_exps.weight")->type).quantized) << shape;
        EXPECT_EQ(logits(mk, cpu, prompt).size(), prompt.size() * s.n_vocab) << shape;
    }
}

// Weights depend on the seed alone, not on how rows are split across threads.
TEST_F(SyntheticModels, WeightsDoNotDependOnTheThreadCount) {
    EXPECT_EQ(bytes_of(write(DType::Q4_0, "qwen3-tiny", 1)), bytes_of(write(DType::Q4_0, "qwen3-tiny", 3)));
}

// --vocab-from: the model takes the vocabulary file's tokenizer and size, and tokenizes as it does.
TEST_F(SyntheticModels, VocabularyComesFromAnotherFile) {
    KILN_REQUIRE_SHARED_FILE(vocab, "models/vocab-qwen2.gguf");
    SynthOptions o;
    o.shape = *synth_shape("qwen2-tiny");
    o.vocab_from = vocab;
    const auto path = dir_ / "qwen2-vocab.gguf";
    const SynthSummary sum = write_synthetic_model(path, o);
    const GgufFile v = GgufFile::open(vocab);
    Model m = Model::load(path);
    EXPECT_EQ(sum.n_vocab, v.get_array("tokenizer.ggml.tokens", GgufType::STRING)->size());
    EXPECT_EQ(m.hparams().vocab_size, sum.n_vocab);
    const std::string text = "Hello, world! 你好 123";
    EXPECT_EQ(Tokenizer::from_gguf(m.file()).encode(text, true, false), Tokenizer::from_gguf(v).encode(text, true, false));
}

// Rows a block type cannot hold fall back as kiln quantize does (Qwen2.5-0.5B's 896 in q4_K).
TEST_F(SyntheticModels, RowsABlockTypeCannotHoldFallBack) {
    SynthOptions o;
    o.shape = *synth_shape("qwen2-tiny");
    o.shape.n_embd = 96;  // not a multiple of 256; n_ff 512 is
    o.dtype = DType::Q4_K;
    const auto path = dir_ / "fallback.gguf";
    const SynthSummary sum = write_synthetic_model(path, o);
    const Model m = Model::load(path);
    EXPECT_EQ(m.file().find_tensor("blk.0.attn_q.weight")->type, DType::Q5_0);
    EXPECT_EQ(m.file().find_tensor("blk.0.ffn_down.weight")->type, DType::Q4_K);  // rows of 512 fit
    EXPECT_EQ(sum.fallbacks, 1u + 6u * o.shape.n_layer);  // token_embd, and 6 matrices per layer
}

}  // namespace
}  // namespace kiln
