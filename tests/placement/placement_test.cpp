// Placement across two backends: which nodes go where (place_graph), and a model split into
// segments (split_graph, PlacedBackend) computing exactly what one backend computes. The
// "device" here is a second CPU backend, so results must be bit-identical.
#include <gtest/gtest.h>

#include <filesystem>

#include "backends/cpu/cpu_backend.h"
#include "backends/placed_backend.h"
#include "graph/placement.h"
#include "models/arch/architectures.h"
#include "models/model.h"
#include "models/session/session.h"
#include "models/synth/synthetic.h"

namespace kiln {
namespace {

const std::filesystem::path& tiny_model() {
    static const std::filesystem::path path = [] {
        auto p = std::filesystem::temp_directory_path() / ("kiln-placement-" + std::to_string(::getpid()) + ".gguf");
        SynthOptions o;
        o.shape = *synth_shape("tiny");
        o.dtype = DType::Q8_0;
        write_synthetic_model(p, o);
        return p;
    }();
    return path;
}

struct TinyModel : ::testing::Test {
    static void TearDownTestSuite() { std::filesystem::remove(tiny_model()); }
};

ModelGraph prompt_graph(const Model& m, int tokens) {
    GraphShape shape;
    shape.n_tokens = tokens;
    shape.n_ctx = 64;
    return build_model_graph(m, shape);
}

std::vector<float> generate_logits(const Model& m, Backend& backend) {
    SessionOptions o;
    o.n_ctx = 64;
    o.n_batch = 8;
    Session s(m, backend, o);
    const std::vector<int32_t> prompt = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309};
    std::vector<float> all;
    auto logits = s.decode(prompt);
    all.insert(all.end(), logits.begin(), logits.end());
    for (int32_t t : {400, 401, 402}) {
        logits = s.decode({&t, 1});
        all.insert(all.end(), logits.begin(), logits.end());
    }
    return all;
}

TEST_F(TinyModel, LayersGoToTheDeviceInOrder) {
    const Model m = Model::load(tiny_model());
    const ModelGraph mg = prompt_graph(m, 4);
    const auto all = [](const Node&) { return true; };
    PlacementPolicy p;
    p.device_layers = 2;
    const std::vector<int> where = place_graph(mg.graph, p, all);
    const auto nodes = mg.graph.nodes();
    bool seen_layer = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        if (n.layer != kNoLayer) seen_layer = true;
        const bool device = n.layer != kNoLayer ? n.layer < 2 : !seen_layer;  // embedding yes, head no
        EXPECT_EQ(where[i], device ? kDeviceBackend : kHostBackend) << mg.graph.tensor(n.dst).name;
    }
    p.device_layers = -1;
    for (int b : place_graph(mg.graph, p, all)) EXPECT_EQ(b, kDeviceBackend);
    p.device_layers = 0;
    for (int b : place_graph(mg.graph, p, all)) EXPECT_EQ(b, kHostBackend);
}

TEST_F(TinyModel, UnsupportedNodesFallBackAndTakeTheirStateAlong) {
    const Model m = Model::load(tiny_model());
    const ModelGraph mg = prompt_graph(m, 4);
    // A device without flash attention: attention falls back, and so do the cache writes that
    // share its state; everything else stays on the device.
    const std::vector<int> where =
        place_graph(mg.graph, {}, [](const Node& n) { return n.op != Op::FlashAttn; });
    const auto nodes = mg.graph.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        const bool host = nodes[i].op == Op::FlashAttn || nodes[i].op == Op::SetRows;
        EXPECT_EQ(where[i], host ? kHostBackend : kDeviceBackend) << mg.graph.tensor(nodes[i].dst).name;
    }
}

TEST_F(TinyModel, SegmentsImportWhatEarlierSegmentsProduce) {
    const Model m = Model::load(tiny_model());
    const ModelGraph mg = prompt_graph(m, 4);
    PlacementPolicy p;
    p.device_layers = 1;
    const std::vector<int> where = place_graph(mg.graph, p, [](const Node& n) { return n.op != Op::Softmax; });
    const std::vector<Segment> segments = split_graph(mg.graph, where);
    ASSERT_EQ(segments.size(), 2u);  // layer 0 (and the embedding) on the device, the rest on the host
    EXPECT_EQ(segments[0].backend, kDeviceBackend);
    EXPECT_TRUE(segments[0].imports.empty());
    ASSERT_EQ(segments[1].imports.size(), 1u);  // the residual stream after layer 0
    EXPECT_EQ(segments[0].exports.size(), 1u);
    EXPECT_EQ(segments[1].imports[0].global, segments[0].exports[0].global);
    size_t nodes = 0;
    for (const Segment& s : segments) nodes += s.graph.nodes().size();
    EXPECT_EQ(nodes, mg.graph.nodes().size());
}

TEST_F(TinyModel, SplitGenerationMatchesOneBackendExactly) {
    const Model m = Model::load(tiny_model());
    CpuBackend single(CpuOptions{2, std::nullopt});
    const std::vector<float> want = generate_logits(m, single);
    for (int layers : {0, 1, 3, -1}) {
        SCOPED_TRACE("device layers " + std::to_string(layers));
        PlacementPolicy policy;
        policy.device_layers = layers;
        PlacedBackend placed(std::make_unique<CpuBackend>(CpuOptions{2, std::nullopt}),
                             std::make_unique<CpuBackend>(CpuOptions{2, std::nullopt}), policy);
        EXPECT_EQ(generate_logits(m, placed), want);
    }
}

// --cpu-moe / --n-cpu-moe: the expert matmuls of the chosen layers, and the swiglu between
// them, go to the host while everything else of those layers (attention, the router, top_k,
// the weighting and sum) stays on the device; generation is bit-identical to one backend.
TEST(MixtureOfExpertsPlacement, ExpertsStayOnTheHost) {
    const auto path = std::filesystem::temp_directory_path() / ("kiln-placement-moe-" + std::to_string(::getpid()) + ".gguf");
    SynthOptions o;
    o.shape = *synth_shape("mixtral-tiny");
    o.dtype = DType::Q8_0;
    write_synthetic_model(path, o);
    {
        const Model m = Model::load(path);
        const ModelGraph mg = prompt_graph(m, 4);
        const auto all = [](const Node&) { return true; };
        for (int experts_on_host : {1, -1}) {
            PlacementPolicy p;
            p.host_expert_layers = experts_on_host;
            const std::vector<int> where = place_graph(mg.graph, p, all);
            const auto nodes = mg.graph.nodes();
            int host_matmuls = 0;
            for (size_t i = 0; i < nodes.size(); ++i) {
                const Node& n = nodes[i];
                const bool layer_on_host = n.layer != kNoLayer && (experts_on_host < 0 || n.layer < experts_on_host);
                const bool expert_node =
                    n.op == Op::MulMatId || (n.op == Op::SwiGLU && mg.graph.tensor(n.src[0]).name.starts_with("mul_mat_id"));
                EXPECT_EQ(where[i], layer_on_host && expert_node ? kHostBackend : kDeviceBackend)
                    << mg.graph.tensor(n.dst).name << " with experts of " << experts_on_host << " layers on the host";
                host_matmuls += where[i] == kHostBackend && n.op == Op::MulMatId;
            }
            EXPECT_EQ(host_matmuls, 3 * (experts_on_host < 0 ? 2 : 1));
        }
        CpuBackend single(CpuOptions{2, std::nullopt});
        const std::vector<float> want = generate_logits(m, single);
        PlacementPolicy policy;
        policy.host_expert_layers = 1;
        PlacedBackend placed(std::make_unique<CpuBackend>(CpuOptions{2, std::nullopt}),
                             std::make_unique<CpuBackend>(CpuOptions{2, std::nullopt}), policy);
        EXPECT_EQ(generate_logits(m, placed), want);
    }
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace kiln
