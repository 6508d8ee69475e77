// The memory planner reuses bytes of dead intermediates and never overlaps live ones.
#include <gtest/gtest.h>

#include <algorithm>

#include "graph/memory_plan.h"

namespace kiln {
namespace {

// Checks that no two intermediates alive at the same time overlap.
void expect_no_live_overlap(const Graph& g, const MemoryPlan& p) {
    const auto nodes = g.nodes();
    const auto tensors = g.tensors();
    std::vector<int64_t> def(tensors.size(), -1), last(tensors.size(), -1);
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (def[nodes[i].dst] < 0) def[nodes[i].dst] = static_cast<int64_t>(i);
        last[nodes[i].dst] = std::max<int64_t>(last[nodes[i].dst], static_cast<int64_t>(i));
        for (TensorId s : nodes[i].src)
            if (s != kNoTensor) last[g.storage_of(s)] = static_cast<int64_t>(i);
    }
    for (TensorId o : g.outputs()) last[o] = static_cast<int64_t>(nodes.size());
    for (size_t a = 0; a < tensors.size(); ++a) {
        if (tensors[a].kind != TensorKind::Intermediate) continue;
        ASSERT_NE(p.offset[a], MemoryPlan::kUnplaced);
        EXPECT_EQ(p.offset[a] % 64, 0u);
        EXPECT_LE(p.offset[a] + tensors[a].n_bytes(), p.arena_bytes);
        for (size_t b = a + 1; b < tensors.size(); ++b) {
            if (tensors[b].kind != TensorKind::Intermediate) continue;
            const bool live_together = def[a] <= last[b] && def[b] <= last[a];
            const bool overlap = p.offset[a] < p.offset[b] + tensors[b].n_bytes() &&
                                 p.offset[b] < p.offset[a] + tensors[a].n_bytes();
            EXPECT_FALSE(live_together && overlap) << tensors[a].name << " and " << tensors[b].name;
        }
    }
}

TEST(MemoryPlan, ChainReusesMemory) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {1024, 1, 1, 1});
    for (int i = 0; i < 20; ++i) x = g.scale(g.silu(x), 0.5f);
    g.mark_output(x);
    MemoryPlan p = plan_memory(g);
    expect_no_live_overlap(g, p);
    EXPECT_EQ(p.naive_bytes, 40u * 4096);
    EXPECT_LE(p.arena_bytes, 3u * 4096);  // a chain needs about two buffers at a time
}

TEST(MemoryPlan, ViewsKeepTheirBaseAlive) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {64, 4, 1, 1});
    TensorId a = g.silu(x);                      // viewed later: must stay alive
    TensorId v = g.reshape(a, {256, 1, 1, 1});
    TensorId b = g.gelu(x);
    TensorId c = g.gelu(b);
    TensorId d = g.add(g.reshape(c, {256, 1, 1, 1}), v);
    g.mark_output(d);
    MemoryPlan p = plan_memory(g);
    expect_no_live_overlap(g, p);
}

TEST(MemoryPlan, OutputsAreNeverReused) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {256, 1, 1, 1});
    TensorId out = g.silu(x);
    g.mark_output(out);
    TensorId y = out;
    for (int i = 0; i < 5; ++i) y = g.gelu(y);
    MemoryPlan p = plan_memory(g);
    expect_no_live_overlap(g, p);
    for (size_t t = 0; t < g.tensors().size(); ++t) {
        if (static_cast<TensorId>(t) == out || g.tensors()[t].kind != TensorKind::Intermediate) continue;
        EXPECT_NE(p.offset[t], p.offset[out]);
    }
}

// A fused run (rms_norm then mul, one kernel) reads x while it writes its output: the output
// must not take x's bytes, which node by node it may (x dies after the norm reads it).
TEST(MemoryPlan, FusedRunsKeepTheirInputsAliveToTheirEnd) {
    Graph g;
    const TensorId a = g.input("a", DType::F32, {256, 1, 1, 1});
    const TensorId w = g.input("w", DType::F32, {256, 1, 1, 1});
    const TensorId x = g.silu(a);                          // node 0
    const TensorId out = g.mul(g.rms_norm(x, 1e-5f), w);   // nodes 1 and 2
    g.mark_output(out);
    const MemoryPlan alone = plan_memory(g, 64);
    EXPECT_EQ(alone.offset[static_cast<size_t>(out)], alone.offset[static_cast<size_t>(x)]);  // reused
    const NodeSpan run{1, 2};
    const MemoryPlan fused = plan_memory(g, 64, {&run, 1});
    EXPECT_NE(fused.offset[static_cast<size_t>(out)], fused.offset[static_cast<size_t>(x)]);
}

}  // namespace
}  // namespace kiln
