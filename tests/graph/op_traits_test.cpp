// Op traits: every op has them, names are unique and are what graphs call their nodes, families
// list every op once, thresholds propagate, and the work model counts as kCostModel says.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "graph/error.h"
#include "graph/op_traits.h"

namespace kiln {
namespace {

TEST(OpTraits, EveryOpHasAUniqueNameAndAThreshold) {
    std::set<std::string_view> names;
    for (Op op : all_ops()) {
        const OpTraits t = op_traits(op);
        EXPECT_FALSE(t.name.empty());
        EXPECT_NE(t.name, "?");
        EXPECT_EQ(op_name(op), t.name);
        EXPECT_TRUE(names.insert(t.name).second) << t.name;
        EXPECT_GE(t.nmse, 0.0) << t.name;
        EXPECT_LE(t.nmse, 5e-4) << t.name;  // nothing looser than ggml's matmul bound
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(kOpCount));
}

TEST(OpTraits, FamiliesPartitionTheOps) {
    size_t total = 0;
    for (int f = 0; f <= static_cast<int>(OpFamily::Reduce); ++f) total += ops_of(static_cast<OpFamily>(f)).size();
    EXPECT_EQ(total, static_cast<size_t>(kOpCount));
    EXPECT_EQ(ops_of(OpFamily::Binary), (std::vector<Op>{Op::Add, Op::Mul, Op::SwiGLU}));
}

TEST(OpTraits, ThresholdsPropagateFromInputs) {
    EXPECT_DOUBLE_EQ(propagated_nmse_threshold(Op::Add, 0), 1e-7);
    EXPECT_DOUBLE_EQ(propagated_nmse_threshold(Op::MatMul, 1e-6), 5e-4 + 1e-5);
    EXPECT_DOUBLE_EQ(propagated_nmse_threshold(Op::Argmax, 0), 0);
}

TEST(OpTraits, NodesAreNamedAfterTheirOp) {
    Graph g;
    const TensorId a = g.input("a", DType::F32, {8, 2, 1, 1});
    for (Op op : ops_of(OpFamily::Unary)) {
        const TensorId out = g.elementwise(op, a);
        EXPECT_EQ(g.tensor(out).name.rfind(std::string(op_name(op)) + "_", 0), 0u) << g.tensor(out).name;
    }
    EXPECT_THROW(g.elementwise(Op::MatMul, a, a), Error);
}

TEST(OpTraits, WorkModel) {
    Graph g;
    const TensorId w = g.input("w", DType::F32, {64, 32, 1, 1});
    const TensorId x = g.input("x", DType::F32, {64, 5, 1, 1});
    const TensorId y = g.matmul(w, x);
    const TensorId s = g.silu(y);
    const TensorId ids = g.input("ids", DType::I32, {3, 1, 1, 1});
    const TensorId rows = g.get_rows(w, ids);
    const auto nodes = g.nodes();
    const NodeCost mm = node_cost(g, nodes[0]);
    EXPECT_DOUBLE_EQ(mm.flops, 2.0 * 64 * 32 * 5);
    EXPECT_EQ(mm.bytes, (64u * 32 + 64 * 5 + 32 * 5) * 4);
    EXPECT_DOUBLE_EQ(node_cost(g, nodes[1]).flops, 32.0 * 5);
    const NodeCost gather = node_cost(g, nodes[2]);
    EXPECT_DOUBLE_EQ(gather.flops, 0);
    EXPECT_EQ(gather.bytes, 3u * 64 * 4 + 3 * 4 + 3 * 64 * 4);  // three rows, the ids, the output
    (void)s;
    (void)rows;
}

}  // namespace
}  // namespace kiln
