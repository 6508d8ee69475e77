// sample() and accept() never touch the heap after construction.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "models/session/sampler.h"
#include "support/allocation_counter.h"


namespace kiln {
namespace {

void expect_no_allocation(const SamplerParams& params, int32_t vocab) {
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (float& x : logits) x = normal(gen);
    Sampler s(params, vocab);
    const long before = kiln::testing::allocation_count();
    for (int i = 0; i < 300; ++i) {
        s.accept(s.sample(logits));
        if (i == 150) s.reset();
    }
    EXPECT_EQ(kiln::testing::allocation_count() - before, 0) << "top-k " << params.top_k << ", last-n "
                                                << params.penalty_last_n;
}

TEST(Sampler, SamplingNeverAllocates) {
    for (int top_k : {0, 40}) {
        for (int last_n : {0, 16, -1}) {
            SamplerParams p;
            p.seed = 3;
            p.top_k = top_k;
            p.temperature = 1.5f;  // flat enough that many distinct tokens enter the history
            p.repeat_penalty = 1.1f;
            p.frequency_penalty = 0.1f;
            p.penalty_last_n = last_n;
            expect_no_allocation(p, 5000);
            p.temperature = 0.0f;
            expect_no_allocation(p, 5000);
        }
    }
}

}  // namespace
}  // namespace kiln
