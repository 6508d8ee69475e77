// token_logprobs: the log-softmax of the raw logits, the chosen token's and the top n.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "graph/error.h"
#include "models/session/logprobs.h"

namespace kiln {
namespace {

TEST(TokenLogprobs, LogSoftmaxOfTheChosenAndTheTopN) {
    const std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
    double z = 0;
    for (float l : logits) z += std::exp(double(l));
    const TokenLogprobs lp = token_logprobs(logits, 4, 3);
    EXPECT_EQ(lp.chosen.id, 4);
    EXPECT_NEAR(lp.chosen.logprob, 0.5 - std::log(z), 1e-6);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].id, 1);  // a tie goes to the lower id
    EXPECT_EQ(lp.top[1].id, 3);
    EXPECT_EQ(lp.top[2].id, 0);
    EXPECT_NEAR(lp.top[0].logprob, 3.0 - std::log(z), 1e-6);
    EXPECT_NEAR(lp.top[2].logprob, 1.0 - std::log(z), 1e-6);

    EXPECT_TRUE(token_logprobs(logits, 0, 0).top.empty());
    EXPECT_EQ(token_logprobs(logits, 0, 50).top.size(), logits.size());  // at most the vocabulary
    EXPECT_THROW(token_logprobs(logits, 5, 1), Error);
    EXPECT_THROW(token_logprobs(logits, -1, 1), Error);
}

TEST(TokenLogprobs, TopMatchesAFullSortOnALargeVocabulary) {
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.0f, 4.0f);
    std::vector<float> logits(151936);
    for (float& l : logits) l = d(rng);
    const TokenLogprobs lp = token_logprobs(logits, 12345, 20);
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    ASSERT_EQ(lp.top.size(), 20u);
    double total = 0;
    for (size_t i = 0; i < 20; ++i) {
        EXPECT_EQ(lp.top[i].id, order[i]) << i;
        total += std::exp(double(lp.top[i].logprob));
    }
    EXPECT_LT(total, 1.0);
    double all = 0;  // the whole distribution sums to one
    const double shift = lp.chosen.logprob - logits[12345];
    for (float l : logits) all += std::exp(double(l) + shift);
    EXPECT_NEAR(all, 1.0, 1e-6);
}

}  // namespace
}  // namespace kiln
