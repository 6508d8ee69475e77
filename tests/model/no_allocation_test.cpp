// A decode step on the CPU backend allocates nothing: graphs, arenas and buffers are made once,
// and every token after that reuses them.
#include <gtest/gtest.h>

#include "backends/cpu/cpu_backend.h"
#include "models/model.h"
#include "models/session/session.h"
#include "support/allocation_counter.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

TEST(NoAllocation, DecodeStepsDoNotTouchTheHeap) {
    KILN_REQUIRE_SHARED_FILE(path, "models/tinystories-656k-q8_0.gguf");
    Model m = Model::load(path);
    CpuBackend cpu(CpuOptions{2, std::nullopt});
    Session s(m, cpu, SessionOptions{});
    const std::vector<int32_t> prompt = {1, 100, 200, 300};
    s.decode(prompt);
    int32_t token = 42;
    s.decode({&token, 1});  // first decode step: builds and compiles the one-token graph
    const long before = testing::allocation_count();
    for (int i = 0; i < 20; ++i) {
        auto logits = s.decode({&token, 1});
        token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    EXPECT_EQ(testing::allocation_count() - before, 0);
}

}  // namespace
}  // namespace kiln
