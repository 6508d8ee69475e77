// What one step asks of the device (Executable::run_counts): on Vulkan a decode step is one
// submit and one wait, a dispatch per node, a barrier between nodes, and binds at least the
// model's weights for reading; a placed graph adds its host copies; host backends have none.
// `kiln bench` reports them in its JSON and, with --profile, as a line per test.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/placed_backend.h"
#include "models/model.h"
#include "models/session/session.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

TEST(RunCounts, HostBackendsHaveNone) {
    KILN_REQUIRE_SHARED(shared);
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    CpuBackend cpu;
    Session session(m, cpu);
    EXPECT_FALSE(session.last_step_counts().has_value());
    const int32_t token = 1;
    session.decode({&token, 1});
    EXPECT_FALSE(session.last_step_counts().has_value());
}

TEST(RunCounts, BenchOnTheCpuReportsNoCounts) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    auto r = run({"bench", "-m", model, "-p", "4", "-n", "2", "-r", "1", "-o", "json", "--backend", "cpu",
                  "--profile"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_FALSE(j[0].contains("per_batch_counts"));
    EXPECT_FALSE(j[1].contains("per_token_counts"));
    EXPECT_EQ(r.err.find("per decode token"), std::string::npos) << r.err;
}

#ifdef KILN_HAVE_VULKAN
uint64_t weight_bytes(const Model& m) {
    uint64_t bytes = 0;
    for (const GgufTensorInfo& t : m.file().tensors()) bytes += t.n_bytes;
    return bytes;
}

vk::VulkanOptions lavapipe_or_first(testing::ValidationLog& log) {
    vk::VulkanOptions options;
    options.device_index = 0;
    options.validation = true;
    options.validation_sink = log.sink();
    return options;
}

TEST(RunCounts, VulkanDecodeStep) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    testing::ValidationLog log;
    vk::VulkanBackend vulkan(lavapipe_or_first(log));
    Session session(m, vulkan);
    const std::vector<int32_t> prompt = {1, 400, 300, 200, 100};
    session.decode(prompt);
    const auto batch = session.last_step_counts();
    ASSERT_TRUE(batch.has_value());

    const int32_t token = 7;
    session.decode({&token, 1});
    const auto step = session.last_step_counts();
    ASSERT_TRUE(step.has_value());
    const uint64_t nodes = session.graph(1).graph.nodes().size();
    // A dispatch per node, but one per fused run of nodes.
    uint64_t fused_away = 0;
    for (const KernelRun& r : vulkan.fused_runs(session.graph(1).graph)) fused_away += r.count - 1;
    EXPECT_GT(fused_away, 0u);
    EXPECT_GE(step->dispatches, nodes - fused_away);
    EXPECT_EQ(step->submits, 1u);
    EXPECT_GE(step->host_waits, 1u);
    // A decoder block is six kernels (norm + q/k/v, rope + KV writes, attention, output +
    // residual, norm + gate/up/swiglu, down + residual), and a seventh where attention splits
    // the cache and merges the splits; plus embedding, output norm, output rows and head.
    EXPECT_LE(step->dispatches, 7 * m.hparams().n_layer + 4);
    // Barriers follow the data: between kernels only where one reads what another wrote, and one
    // at the end (to the host and later submits); none at the start.
    EXPECT_LE(step->barriers, step->dispatches);
    EXPECT_GE(step->bytes_bound_for_reading, weight_bytes(m));
    EXPECT_EQ(step->host_copies, 0u);
    EXPECT_EQ(step->host_copy_bytes, 0u);
    // A prompt batch binds larger activations than one token.
    EXPECT_GT(batch->bytes_bound_for_reading, step->bytes_bound_for_reading);

    // Every decode step asks the same, with profiling on (a re-recorded buffer) or not.
    session.decode({&token, 1});
    EXPECT_EQ(session.last_step_counts(), step);
    session.set_profile_sink([](const StepProfile&) {});
    session.decode({&token, 1});
    EXPECT_EQ(session.last_step_counts(), step);
    EXPECT_TRUE(log.errors.empty()) << log.errors.front();
}

// A whole session on Vulkan (weights, 2 x layers KV caches, graphs' arenas, scratch, inputs) asks
// the device for a handful of memory objects, and says what its buffers hold.
TEST(RunCounts, VulkanSessionMakesAHandfulOfAllocations) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    vk::VulkanBackend vulkan;
    Session session(m, vulkan);
    const std::vector<int32_t> prompt = {1, 400, 300, 200, 100};
    session.decode(prompt);
    const int32_t token = 7;
    session.decode({&token, 1});
    const std::optional<DeviceMemoryUse> use = vulkan.device_memory();
    ASSERT_TRUE(use.has_value());
    // Weights, one block per memory type used (device-local, host-visible inputs): far fewer
    // than the 2 * 5 KV caches, 2 graphs' arenas and inputs alone.
    EXPECT_LE(use->allocations, 4u);
    EXPECT_GE(use->weights, m.file().tensors().front().n_bytes);
    EXPECT_EQ(use->kv_cache, 2u * m.hparams().n_layer * static_cast<uint64_t>(session.n_ctx()) *
                                 m.hparams().n_head_kv * m.hparams().head_dim * 2);
    EXPECT_GT(use->activations, 0u);
    EXPECT_GT(use->io, 0u);
}

TEST(RunCounts, PlacedGraphAddsItsHostCopies) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    testing::ValidationLog log;
    PlacementPolicy policy;
    policy.device_layers = 2;
    vk::VulkanOptions node_by_node = lavapipe_or_first(log);
    node_by_node.fuse = false;  // a dispatch per device node, to count them against the placement
    PlacedBackend placed(std::make_unique<vk::VulkanBackend>(node_by_node), std::make_unique<CpuBackend>(), policy);
    Session session(m, placed);
    const int32_t token = 1;
    session.decode({&token, 1});
    const auto step = session.last_step_counts();
    ASSERT_TRUE(step.has_value());
    const std::vector<int> where = placed.placement(session.graph(1).graph);
    const auto on_device = static_cast<uint64_t>(std::count(where.begin(), where.end(), kDeviceBackend));
    ASSERT_GT(on_device, 0u);
    ASSERT_LT(on_device, where.size());
    EXPECT_GE(step->dispatches, on_device);
    EXPECT_LT(step->dispatches, where.size());
    EXPECT_GE(step->submits, 1u);
    EXPECT_GE(step->host_waits, step->submits);
    EXPECT_GT(step->host_copies, 0u);
    EXPECT_GE(step->host_copy_bytes, step->host_copies * 4);
    EXPECT_TRUE(log.errors.empty()) << log.errors.front();
}

TEST(RunCounts, BenchReportsThemOnVulkan) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    auto r = run({"bench", "-m", model, "-p", "8", "-n", "2", "-r", "1", "-o", "json", "--backend", "vulkan",
                  "--device", "0", "--profile"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    ASSERT_TRUE(j[0].contains("per_batch_counts")) << j[0].dump();
    EXPECT_EQ(j[0]["per_batch_counts"]["batch_tokens"], 8);
    ASSERT_TRUE(j[1].contains("per_token_counts")) << j[1].dump();
    const auto& c = j[1]["per_token_counts"];
    EXPECT_EQ(c["submits"], 1);
    EXPECT_GE(c["host_waits"].get<int>(), 1);
    EXPECT_GT(c["dispatches"].get<int>(), 0);
    EXPECT_GT(c["barriers"].get<int>(), 0);
    EXPECT_GE(c["bytes_bound_for_reading"].get<uint64_t>(), j[1]["size_bytes"].get<uint64_t>());
    EXPECT_GE(c["bound_per_weight_byte"].get<double>(), 1.0);
    const std::string line = "stories260K.gguf vulkan tg2 per decode token: " +  // every node on the device
                             std::to_string(c["dispatches"].get<int>()) + " dispatches, 1 submits, ";
    EXPECT_NE(r.err.find(line), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("per 8-token batch: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("× the model's weight bytes (1.12 MiB)"), std::string::npos) << r.err;
}
#endif

}  // namespace
}  // namespace kiln
