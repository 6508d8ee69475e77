// The graph builder: shapes, views and the checks that turn a mis-shaped model into a clear error.
#include <gtest/gtest.h>

#include "graph/error.h"
#include "graph/graph.h"

namespace kiln {
namespace {

TEST(GraphBuilder, ShapesFollowTheOps) {
    Graph g;
    TensorId w = g.weight("w", DType::Q4_0, {64, 32, 1, 1}, nullptr);
    TensorId x = g.input("x", DType::F32, {64, 5, 1, 1});
    TensorId y = g.matmul(w, x);
    EXPECT_EQ(g.tensor(y).ne, (Shape{32, 5, 1, 1}));
    TensorId q = g.reshape(y, {8, 4, 5, 1});
    EXPECT_EQ(g.tensor(q).kind, TensorKind::View);
    EXPECT_EQ(g.storage_of(q), y);
    TensorId pos = g.input("pos", DType::I32, {5, 1, 1, 1});
    RopeParams rp;
    rp.n_dims = 8;
    TensorId r = g.rope(q, pos, rp);
    EXPECT_EQ(g.tensor(r).ne, (Shape{8, 4, 5, 1}));
    TensorId t = g.transpose(y);
    EXPECT_EQ(g.tensor(t).ne, (Shape{5, 32, 1, 1}));
    EXPECT_EQ(g.tensor(t).nb[0], g.tensor(y).nb[1]);
    EXPECT_FALSE(g.tensor(t).is_contiguous());
    EXPECT_TRUE(g.tensor(y).is_contiguous());
    TensorId a = g.argmax(y);
    EXPECT_EQ(g.tensor(a).type, DType::I32);
    EXPECT_EQ(g.tensor(a).ne, (Shape{1, 5, 1, 1}));
    EXPECT_EQ(g.nodes().size(), 3u);
}

TEST(GraphBuilder, AttentionShapes) {
    Graph g;
    TensorId q = g.input("q", DType::F32, {64, 8, 3, 1});
    TensorId k = g.state("k", DType::F16, {64, 2, 100, 1});
    TensorId v = g.state("v", DType::F16, {32, 2, 100, 1});
    TensorId pos = g.input("pos", DType::I32, {3, 1, 1, 1});
    TensorId o = g.flash_attn(q, k, v, pos, 0.125f);
    EXPECT_EQ(g.tensor(o).ne, (Shape{32, 8, 3, 1}));
    TensorId k3 = g.state("k3", DType::F16, {64, 3, 100, 1});
    TensorId v3 = g.state("v3", DType::F16, {32, 3, 100, 1});
    EXPECT_THROW(g.flash_attn(q, k3, v3, pos, 1.0f), Error);  // 3 KV heads do not divide 8
}

TEST(GraphBuilder, MismatchesAreErrorsNamingTensors) {
    Graph g;
    TensorId w = g.weight("blk.0.attn_q.weight", DType::F16, {64, 64, 1, 1}, nullptr);
    TensorId x = g.input("x", DType::F32, {32, 1, 1, 1});
    try {
        g.matmul(w, x);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos) << e.what();
    }
    EXPECT_THROW(g.weight("bad", DType::Q4_0, {33, 1, 1, 1}, nullptr), Error);   // not a whole block
    EXPECT_THROW(g.input("zero", DType::F32, {0, 1, 1, 1}), Error);
    TensorId y = g.input("y", DType::F32, {6, 4, 1, 1});
    EXPECT_THROW(g.add(y, g.input("b", DType::F32, {4, 1, 1, 1})), Error);      // 4 does not broadcast over 6
    EXPECT_THROW(g.reshape(y, {5, 5, 1, 1}), Error);
    EXPECT_THROW(g.reshape(g.transpose(y), {24, 1, 1, 1}), Error);               // not contiguous
    EXPECT_THROW(g.view(y, {6, 5, 1, 1}, g.tensor(y).nb, 0), Error);             // past the end
    RopeParams odd;
    odd.n_dims = 3;
    EXPECT_THROW(g.rope(g.input("h", DType::F32, {8, 2, 1, 1}), g.input("p", DType::I32, {1, 1, 1, 1}), odd), Error);
}

TEST(GraphBuilder, CopyAndSetRowsWriteIntoTheirDestination) {
    Graph g;
    TensorId cache = g.state("cache", DType::F16, {16, 10, 1, 1});
    TensorId x = g.input("x", DType::F32, {16, 3, 1, 1});
    TensorId ids = g.input("ids", DType::I32, {3, 1, 1, 1});
    EXPECT_EQ(g.set_rows(cache, x, ids), cache);
    EXPECT_EQ(g.nodes().back().dst, cache);
    EXPECT_THROW(g.set_rows(cache, g.input("w", DType::F32, {8, 3, 1, 1}), ids), Error);
    TensorId row = g.view(cache, {16, 1, 1, 1}, g.tensor(cache).nb, g.tensor(cache).nb[1] * 2);
    EXPECT_EQ(g.copy(g.input("r", DType::F32, {16, 1, 1, 1}), row), row);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

TEST(GraphBuilder, SourcesNotGivenAreNoTensor) {
    Graph g;
    TensorId tokens = g.input("tokens", DType::I32, {4, 1, 1, 1});  // id 0: what a zero would alias
    TensorId x = g.input("x", DType::F32, {8, 4, 1, 1});
    ASSERT_EQ(tokens, 0);
    g.rms_norm(x, 1e-5f);
    g.silu(x);
    g.add(x, x);
    g.set_layer(3);
    g.scale(x, 2.0f);
    for (const Node& n : g.nodes()) {
        for (int i = n.op == Op::Add ? 2 : 1; i < kMaxSrc; ++i) EXPECT_EQ(n.src[i], kNoTensor) << op_name(n.op);
    }
    EXPECT_EQ(g.nodes().front().layer, kNoLayer);
    EXPECT_EQ(g.nodes().back().layer, 3);
}

}  // namespace
}  // namespace kiln
