// The Vulkan backend's own contract, beyond single ops (tests/backend_ops): weights uploaded
// once for every graph, state shared by name and zero at first use, a recording replayed with
// new inputs each run, outputs readable, and clear errors for what it cannot do.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "graph/host_release.h"
#include "validated_backend.h"

namespace kiln {
namespace {

using VulkanBackendTest = testing::ValidatedBackendTest;

std::span<const uint8_t> bytes_of(const std::vector<float>& v) {
    return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

std::vector<float> read_floats(Executable& e, const Graph& g, TensorId t) {
    std::vector<float> v(static_cast<size_t>(g.tensor(t).n_elements()));
    e.read(t, {reinterpret_cast<uint8_t*>(v.data()), v.size() * sizeof(float)});
    return v;
}

TEST_F(VulkanBackendTest, WeightsAreUploadedOnceAndInputsChangePerRun) {
    std::vector<float> w(1000);
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
    Graph g1, g2;
    for (Graph* g : {&g1, &g2}) {
        TensorId wt = g->weight("w", DType::F32, {1000, 1, 1, 1}, w.data());
        TensorId x = g->input("x", DType::F32, {1000, 1, 1, 1});
        g->mark_output(g->add(x, wt));
    }
    auto e1 = backend_->compile(g1);
    const uint64_t uploaded = backend_->weight_bytes();
    EXPECT_EQ(uploaded, 4000u);
    auto e2 = backend_->compile(g2);
    EXPECT_EQ(backend_->weight_bytes(), uploaded);  // the same host bytes: no second copy

    const TensorId x = g1.find("x"), out = g1.nodes().back().dst;
    for (float step : {1.0f, -2.5f, 100.0f}) {
        e1->write(x, bytes_of(std::vector<float>(1000, step)));
        e1->run();
        const auto got = read_floats(*e1, g1, out);
        for (size_t i = 0; i < got.size(); i += 97) EXPECT_EQ(got[i], w[i] + step);
    }
}

// A model freed and another loaded may put other weights at the same host addresses: the
// release announced for the freed bytes (graph/host_release.h) makes the backend upload again.
TEST_F(VulkanBackendTest, ReleasedHostBytesAreUploadedAgain) {
    std::vector<float> w(256, 1.0f);
    const auto run_once = [&] {
        Graph g;
        TensorId wt = g.weight("w", DType::F32, {256, 1, 1, 1}, w.data());
        g.mark_output(g.scale(wt, 2.0f));
        auto e = backend_->compile(g);
        e->run();
        return read_floats(*e, g, g.nodes().back().dst);
    };
    EXPECT_EQ(run_once()[7], 2.0f);
    std::fill(w.begin(), w.end(), 5.0f);  // same address, other bytes, not announced: the upload stands
    EXPECT_EQ(run_once()[7], 2.0f);
    announce_host_release(w.data(), w.data() + w.size());
    EXPECT_EQ(run_once()[7], 10.0f);
}

TEST_F(VulkanBackendTest, StateIsSharedByNameAndStartsAtZero) {
    // Graph A writes row 3 of a state; graph B reads the whole state.
    Graph a, b;
    TensorId sa = a.state("s.cache", DType::F32, {4, 8, 1, 1});
    TensorId va = a.input("v", DType::F32, {4, 1, 1, 1});
    TensorId ia = a.input("ids", DType::I32, {1, 1, 1, 1});
    a.set_rows(sa, va, ia);
    TensorId sb = b.state("s.cache", DType::F32, {4, 8, 1, 1});
    b.mark_output(b.scale(sb, 2.0f));

    auto ea = backend_->compile(a);
    auto eb = backend_->compile(b);
    eb->run();
    for (float x : read_floats(*eb, b, b.nodes().back().dst)) EXPECT_EQ(x, 0.0f);

    ea->write(va, bytes_of({1, 2, 3, 4}));
    const int32_t row = 3;
    ea->write(ia, {reinterpret_cast<const uint8_t*>(&row), 4});
    ea->run();
    eb->run();
    const auto got = read_floats(*eb, b, b.nodes().back().dst);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], i / 4 == 3 ? 2.0f * static_cast<float>(i % 4 + 1) : 0.0f);

    // Released state comes back zeroed.
    eb.reset();
    ea.reset();
    backend_->release_state("s.");
    auto eb2 = backend_->compile(b);
    eb2->run();
    for (float x : read_floats(*eb2, b, b.nodes().back().dst)) EXPECT_EQ(x, 0.0f);
}

TEST_F(VulkanBackendTest, MisuseIsAnErrorNamingTheTensor) {
    Graph g;
    TensorId x = g.input("x", DType::F32, {16, 1, 1, 1});
    TensorId y = g.scale(x, 3.0f);
    g.mark_output(y);
    auto e = backend_->compile(g);
    std::vector<uint8_t> small(8);
    try {
        e->write(x, small);
        FAIL() << "a short write was accepted";
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find("x"), std::string::npos) << err.what();
    }
    EXPECT_THROW(e->write(y, std::vector<uint8_t>(64)), Error);  // not an input
}

TEST(VulkanBackendDevice, AnIndexPastTheDevicesIsAClearError) {
    KILN_REQUIRE_VULKAN();
    vk::VulkanOptions o;
    o.device_index = 1000;
    try {
        vk::VulkanBackend b(o);
        FAIL() << "device 1000 was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace kiln
