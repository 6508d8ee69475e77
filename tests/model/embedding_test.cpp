// The model as an embedder: hidden states that the output head turns into the same logits a
// generating session computes, pooling that means what it says, and one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "graph/error.h"
#include "models/model.h"
#include "models/session/embedding.h"
#include "models/session/session.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

const Model& f32_model() {
    static testing::TempModel file("embed", "tiny", DType::F32, 21);
    static const Model m = Model::load(file.path());
    return m;
}

double norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return std::sqrt(s);
}

double max_diff(std::span<const float> a, std::span<const float> b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
    return d;
}

const std::vector<int32_t> kTokens = {1, 40, 77, 300, 511, 9, 100, 33, 250, 7};

TEST(Embedding, TheOutputHeadTurnsTheLastHiddenStateIntoTheSessionsLogits) {
    const Model& m = f32_model();
    CpuBackend cpu(CpuOptions{1, std::nullopt});
    SessionOptions eo;
    eo.n_ctx = 64;
    eo.embeddings = true;
    Session es(m, cpu, eo);
    const std::vector<float> h = embed(es, kTokens, Pooling::Last, /*normalize=*/false);
    ASSERT_EQ(h.size(), size_t(m.hparams().n_embd));
    EXPECT_EQ(es.row_width(), int(m.hparams().n_embd));

    SessionOptions lo;
    lo.n_ctx = 64;
    Session ls(m, cpu, lo);
    const std::span<const float> logits = ls.decode(kTokens);

    const GgufTensorInfo* head = m.file().find_tensor("output.weight");
    if (!head) head = m.file().find_tensor("token_embd.weight");
    ASSERT_NE(head, nullptr);
    ASSERT_EQ(head->type, DType::F32);
    const auto bytes = m.file().tensor_data(*head);
    const size_t E = h.size(), V = logits.size();
    std::vector<float> w(E * V);
    std::memcpy(w.data(), bytes.data(), w.size() * 4);
    double worst = 0, scale = 0;
    for (size_t v = 0; v < V; ++v) {
        double dot = 0;
        for (size_t k = 0; k < E; ++k) dot += double(w[v * E + k]) * h[k];
        worst = std::max(worst, std::fabs(dot - logits[v]));
        scale = std::max(scale, std::fabs(dot));
    }
    EXPECT_LT(worst, 1e-4 * std::max(1.0, scale)) << "of logits up to " << scale;
}

TEST(Embedding, PoolingNormalizingAndChunkingMeanWhatTheySay) {
    const Model& m = f32_model();
    CpuBackend cpu(CpuOptions{1, std::nullopt});
    SessionOptions o;
    o.n_ctx = 64;
    o.embeddings = true;
    Session s(m, cpu, o);
    const std::vector<float> mean = embed(s, kTokens, Pooling::Mean, true);
    EXPECT_NEAR(norm(mean), 1.0, 1e-6);
    // CLS is the first token's state, which a causal model computes from that token alone.
    const std::vector<float> cls = embed(s, kTokens, Pooling::Cls, false);
    const std::vector<float> first = embed(s, {kTokens.data(), 1}, Pooling::Last, false);
    EXPECT_LT(max_diff(cls, first), 1e-5);
    // Mean of the rows: the mean over 10 tokens, rebuilt from the per-prefix last states.
    std::vector<double> sum(cls.size(), 0.0);
    for (size_t n = 1; n <= kTokens.size(); ++n) {
        const std::vector<float> last = embed(s, {kTokens.data(), n}, Pooling::Last, false);
        for (size_t k = 0; k < sum.size(); ++k) sum[k] += last[k];
    }
    const std::vector<float> raw_mean = embed(s, kTokens, Pooling::Mean, false);
    for (size_t k = 0; k < sum.size(); ++k) EXPECT_NEAR(raw_mean[k], sum[k] / kTokens.size(), 1e-4) << k;
    // Chunks of 4 tokens give what one chunk gives.
    SessionOptions small = o;
    small.n_batch = 4;
    Session chunked(m, cpu, small);
    EXPECT_LT(max_diff(embed(chunked, kTokens, Pooling::Mean, true), mean), 1e-5);
}

TEST(Embedding, BadRequestsAreOneLineErrors) {
    const Model& m = f32_model();
    CpuBackend cpu(CpuOptions{1, std::nullopt});
    SessionOptions o;
    o.n_ctx = 8;
    Session plain(m, cpu, o);
    EXPECT_THROW(embed(plain, kTokens, Pooling::Mean, true), Error);
    o.embeddings = true;
    Session s(m, cpu, o);
    EXPECT_THROW(embed(s, {}, Pooling::Mean, true), Error);
    try {
        embed(s, kTokens, Pooling::Mean, true);
        ADD_FAILURE() << "10 tokens in an 8-token context";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("10 tokens exceed the 8-token context"), std::string::npos) << e.what();
    }
    try {
        parse_pooling("max", "--pooling");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--pooling 'max' is not one of mean, cls, last");
    }
    EXPECT_EQ(model_pooling(m), std::nullopt);  // synthetic models do not say
}

}  // namespace
}  // namespace kiln
