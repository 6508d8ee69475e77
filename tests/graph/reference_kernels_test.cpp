// The reference kernels on hand-checked values: they are the ground truth for every backend,
// so they get tests that do not depend on any other kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "graph/graph.h"
#include "graph/memory_plan.h"
#include "graph/reference/reference.h"

namespace kiln {
namespace {

// Runs a graph on host buffers with the reference kernels.
class Host {
public:
    // Every node's result is read by the test, so the graph must mark them as outputs.
    explicit Host(Graph& g) : g_(mark_all(g)), plan_(plan_memory(g)), arena_(plan_.arena_bytes + 64) {
        for (const Tensor& t : g.tensors()) {
            if (t.kind == TensorKind::Input || t.kind == TensorKind::State) owned_.emplace_back(t.n_bytes());
        }
        size_t k = 0;
        for (size_t i = 0; i < g.tensors().size(); ++i) {
            const Tensor& t = g.tensors()[i];
            if (t.kind == TensorKind::Input || t.kind == TensorKind::State) data_.push_back(owned_[k++].data());
            else if (t.kind == TensorKind::Intermediate) data_.push_back(arena_.data() + plan_.offset[i]);
            else if (t.kind == TensorKind::View) data_.push_back(data_[t.view_of] + t.view_offset);
            else data_.push_back(const_cast<uint8_t*>(static_cast<const uint8_t*>(t.host_data)));
        }
    }
    template <typename T>
    void set(TensorId t, const std::vector<T>& v) { std::memcpy(data_[t], v.data(), v.size() * sizeof(T)); }
    void run() {
        for (const Node& n : g_.nodes()) reference_execute(g_, n, data_);
    }
    template <typename T = float>
    std::vector<T> get(TensorId t) {
        std::vector<T> v(g_.tensor(t).n_elements());
        std::memcpy(v.data(), data_[t], v.size() * sizeof(T));
        return v;
    }

private:
    static Graph& mark_all(Graph& g) {
        for (const Node& n : g.nodes()) g.mark_output(n.dst);
        return g;
    }
    const Graph& g_;
    MemoryPlan plan_;
    std::vector<uint8_t> arena_;
    std::vector<std::vector<uint8_t>> owned_;
    std::vector<uint8_t*> data_;
};

TEST(ReferenceKernels, RopeRotatesPairs) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {4, 1, 2, 1});
    TensorId pos = g.input("pos", DType::I32, {2, 1, 1, 1});
    RopeParams normal;
    normal.n_dims = 4;
    normal.freq_base = 10000.0f;
    RopeParams neox = normal;
    neox.mode = RopeMode::Neox;
    TensorId a = g.rope(x, pos, normal);
    TensorId b = g.rope(x, pos, neox);
    Host h(g);
    h.set<float>(x, {1, 2, 3, 4, 1, 2, 3, 4});
    h.set<int32_t>(pos, {0, 1});
    h.run();
    auto ra = h.get(a);
    auto rb = h.get(b);
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(ra[i], float(i + 1));  // position 0: identity
    // Position 1, normal: pair (1,2) by 1 rad, pair (3,4) by 10000^(-1/2) = 0.01 rad.
    EXPECT_NEAR(ra[4], 1 * std::cos(1.0) - 2 * std::sin(1.0), 1e-6);
    EXPECT_NEAR(ra[5], 1 * std::sin(1.0) + 2 * std::cos(1.0), 1e-6);
    EXPECT_NEAR(ra[6], 3 * std::cos(0.01) - 4 * std::sin(0.01), 1e-6);
    // NeoX pairs (x0, x2) by 1 rad and (x1, x3) by 0.01 rad.
    EXPECT_NEAR(rb[4], 1 * std::cos(1.0) - 3 * std::sin(1.0), 1e-6);
    EXPECT_NEAR(rb[6], 1 * std::sin(1.0) + 3 * std::cos(1.0), 1e-6);
    EXPECT_NEAR(rb[5], 2 * std::cos(0.01) - 4 * std::sin(0.01), 1e-6);
}

TEST(ReferenceKernels, SoftmaxAndNorms) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {3, 1, 1, 1});
    TensorId mask = g.input("mask", DType::F32, {3, 1, 1, 1});
    TensorId s = g.softmax(x, mask, 2.0f);
    TensorId r = g.rms_norm(x, 0.0f);
    TensorId n = g.norm(x, 0.0f);
    Host h(g);
    h.set<float>(x, {1, 2, 3});
    h.set<float>(mask, {0, 0, -INFINITY});
    h.run();
    auto sv = h.get(s);
    EXPECT_NEAR(sv[0], 1 / (1 + std::exp(2.0)), 1e-7);
    EXPECT_NEAR(sv[1], std::exp(2.0) / (1 + std::exp(2.0)), 1e-7);
    EXPECT_EQ(sv[2], 0.0f);
    auto rv = h.get(r);
    EXPECT_NEAR(rv[2], 3 / std::sqrt(14.0 / 3), 1e-6);
    auto nv = h.get(n);
    EXPECT_NEAR(nv[0], -1 / std::sqrt(2.0 / 3), 1e-6);
    EXPECT_NEAR(nv[1], 0, 1e-7);
}

TEST(ReferenceKernels, FlashAttentionIsCausalSoftmaxOverKeys) {
    // One query head over two KV heads' worth of keys; GQA 2:1.
    Graph g;
    TensorId q = g.input("q", DType::F32, {2, 2, 1, 1});
    TensorId k = g.input("k", DType::F32, {2, 1, 3, 1});
    TensorId v = g.input("v", DType::F32, {1, 1, 3, 1});
    TensorId pos = g.input("pos", DType::I32, {1, 1, 1, 1});
    TensorId o = g.flash_attn(q, k, v, pos, 1.0f);
    Host h(g);
    h.set<float>(q, {1, 0, 0, 1});
    h.set<float>(k, {1, 0, 0, 1, 5, 5});  // key 2 is beyond pos 1: invisible
    h.set<float>(v, {10, 20, 1000});
    h.set<int32_t>(pos, {1});
    h.run();
    auto out = h.get(o);
    const double e = std::exp(1.0);
    EXPECT_NEAR(out[0], (10 * e + 20) / (e + 1), 1e-5);  // head 0 prefers key 0
    EXPECT_NEAR(out[1], (10 + 20 * e) / (e + 1), 1e-5);  // head 1 prefers key 1
}

TEST(ReferenceKernels, SetRowsGetRowsArgmax) {
    Graph g;
    TensorId cache = g.state("cache", DType::F16, {2, 4, 1, 1});
    TensorId x = g.input("x", DType::F32, {2, 2, 1, 1});
    TensorId ids = g.input("ids", DType::I32, {2, 1, 1, 1});
    g.set_rows(cache, x, ids);
    TensorId rows = g.input("rows", DType::I32, {3, 1, 1, 1});
    TensorId got = g.get_rows(cache, rows);
    TensorId am = g.argmax(got);
    Host h(g);
    h.set<float>(x, {1.5f, -2, 3, 0.25f});
    h.set<int32_t>(ids, {3, -1});  // -1: padding, nothing written
    h.set<int32_t>(rows, {3, 0, 7});  // 7 is out of range: zeros, never a crash
    h.run();
    EXPECT_EQ(h.get(got), (std::vector<float>{1.5f, -2, 0, 0, 0, 0}));
    EXPECT_EQ(h.get<int32_t>(am), (std::vector<int32_t>{0, 0, 0}));
}

}  // namespace
}  // namespace kiln
