// Barriers from data dependencies: a recording waits only where a dispatch reads or overwrites
// what an unfenced dispatch wrote, or overwrites what one read (memory-plan reuse). Graphs of
// known structure, counted through run_counts(), with results checked and the validation
// layer's synchronization check on (any hazard it sees fails the test).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "graph/memory_plan.h"
#include "validated_backend.h"

namespace kiln {
namespace {

class VulkanBarriers : public testing::ValidatedBackendTest {
protected:
    // Runs g once with x = 0.1 i and returns its recorded barrier count; `check` reads outputs.
    uint64_t barriers(Graph& g, TensorId x, const std::function<void(Executable&)>& check = {}) {
        auto exe = backend_->compile(g);
        std::vector<float> v(static_cast<size_t>(g.tensor(x).n_elements()));
        for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(i) - 3.0f;
        exe->write(x, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4});
        exe->run();
        if (check) check(*exe);
        return exe->run_counts()->barriers;
    }

    // Barriers of a one-node graph: those around the nodes (before the first, to the host).
    uint64_t base() {
        Graph g;
        const TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
        g.mark_output(g.silu(x));
        return barriers(g, x);
    }
};

std::vector<float> read(Executable& e, const Graph& g, TensorId t) {
    std::vector<float> v(static_cast<size_t>(g.tensor(t).n_elements()));
    e.read(t, {reinterpret_cast<uint8_t*>(v.data()), v.size() * 4});
    return v;
}

TEST_F(VulkanBarriers, AChainWaitsBetweenEveryNode) {
    Graph g;
    const TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
    const TensorId y = g.scale(g.gelu(g.silu(x)), 2.0f);
    g.mark_output(y);
    EXPECT_EQ(barriers(g, x), base() + 2);
}

TEST_F(VulkanBarriers, IndependentNodesShareNone) {
    Graph g;
    const TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
    for (TensorId t : {g.silu(x), g.gelu(x), g.scale(x, 3.0f), g.sigmoid(x)}) g.mark_output(t);
    EXPECT_EQ(barriers(g, x), base());
}

TEST_F(VulkanBarriers, ADiamondWaitsOnceForBothBranches) {
    Graph g;
    const TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
    const TensorId sum = g.add(g.silu(x), g.scale(x, 0.5f));
    g.mark_output(sum);
    EXPECT_EQ(barriers(g, x, [&](Executable& e) {
                  const std::vector<float> got = read(e, g, sum);
                  for (size_t i = 0; i < got.size(); ++i) {
                      const float v = 0.1f * static_cast<float>(i) - 3.0f;
                      EXPECT_NEAR(got[i], v / (1.0f + std::exp(-v)) + 0.5f * v, 1e-5f) << i;
                  }
              }),
              base() + 1);
}

// c = scale(x) depends on nothing before it, but when the memory plan gives it the bytes that
// a (read by the gelu just before) held, writing them must wait for that read.
TEST_F(VulkanBarriers, ReusedArenaBytesWaitForTheirLastReader) {
    Graph g;
    const TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
    const TensorId a = g.silu(x);
    const TensorId b = g.gelu(a);
    const TensorId c = g.scale(x, 2.0f);
    g.mark_output(b);
    g.mark_output(c);
    const MemoryPlan plan = plan_memory(g, 256);
    ASSERT_EQ(plan.offset[static_cast<size_t>(c)], plan.offset[static_cast<size_t>(a)]) << "the planner no longer reuses a's bytes for c";
    EXPECT_EQ(barriers(g, x, [&](Executable& e) {
                  const std::vector<float> got = read(e, g, c);
                  for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], 2.0f * (0.1f * static_cast<float>(i) - 3.0f));
              }),
              base() + 2);  // gelu after silu (read after write), scale after gelu (write after read)
}

}  // namespace
}  // namespace kiln
