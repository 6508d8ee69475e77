// Whole models on the Vulkan backend (lavapipe in CI) against llama.cpp's logits and greedy
// tokens: the same goldens as the CPU, every node on the device, under the validation layer,
// with fused kernels and node by node (`--no-fuse`), whose greedy ids must agree.
// The Vulkan kernels compute in f32 where llama.cpp's CPU backend rounds (f16 Q and V sums in
// attention, 8-bit activations for q8_0 weights), so rows sit further from the goldens than the
// CPU's do: float models within the 1e-4 the Vulkan issue asks for, q8_0 models within the
// distance exact arithmetic has from llama.cpp on them (measured 1e-3..3.8e-3).
#include <gtest/gtest.h>

#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#include "golden_test_support.h"
#include "support/shared_dir.h"
#include "vulkan/vulkan_test_support.h"

namespace kiln {
namespace {

using namespace kiln::testing;

constexpr double kVulkanFloatModelNmse = 1e-4;
constexpr double kVulkanQ8ModelNmse = 5e-3;
// The q8_0 mixture-of-experts goldens are held on the CPU only (golden_cpu_test.cpp), whose
// 8-bit activations follow llama.cpp's: with f32 activations (or integer dots with their own
// rounding) the routers here pick other experts at a few near-ties, and one picked in an early
// layer changes that token's KV cache, so later rows sit 1-3% (NMSE 1e-2) from llama.cpp's.
// The f32 MoE goldens are held here like every other model; the op suite cross-checks top_k
// and mul_mat_id on Vulkan for every dtype.

// Options with the validation layer on, its messages going to `log`.
vk::VulkanOptions validated(ValidationLog& log) {
    vk::VulkanOptions options;
    options.validation = true;
    options.validation_sink = log.sink();
    return options;
}

void expect_no_messages(ValidationLog& log) {
    std::lock_guard lock(log.mutex);
    EXPECT_TRUE(log.errors.empty()) << log.errors.size() << " validation messages, first: " << log.errors[0];
}

TEST(VulkanModel, GoldenLogitsAndGreedyIds) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    ValidationLog log;
    const vk::VulkanOptions options = validated(log);
    vk::VulkanOptions unfused = options;
    unfused.fuse = false;
    {
        vk::VulkanBackend backend(options);
        vk::VulkanBackend node_by_node(unfused);  // `--no-fuse`
        for (const GoldenCase& c : golden_cases()) {
            if (c.quantized && c.experts) continue;  // see kVulkanQ8ModelNmse
            GoldenRun g = load_golden(shared, c.dir, c.name, c.model_dir);
            const double bound = c.quantized ? kVulkanQ8ModelNmse : kVulkanFloatModelNmse;
            GoldenResult r = run_token_by_token(g, backend, bound);
            EXPECT_LT(r.worst_nmse, bound) << c.name;
            EXPECT_EQ(r.id_mismatches, 0) << c.name;
            EXPECT_GE(r.decisive_rows, min_decisive_rows(g)) << c.name;
            // Fused kernels round as the nodes they replace: the same greedy id on every row.
            GoldenResult n = run_token_by_token(g, node_by_node, bound);
            EXPECT_EQ(n.row_ids, r.row_ids) << c.name << ": fused and node-by-node greedy ids differ";
            std::printf("vulkan %-28s worst row NMSE %.3g (node by node %.3g), %d of %zu greedy ids decisive\n",
                        c.name.c_str(), r.worst_nmse, n.worst_nmse, r.decisive_rows, g.gen_ids.size());
        }
    }
    expect_no_messages(log);
}

// The quantized goldens with integer-dot matmuls forced (8-bit activations, as llama.cpp's CPU
// multiplies q8_0 weights): the same bounds and greedy ids.
TEST(VulkanModel, QuantizedGoldensWithIntegerDots) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    ValidationLog log;
    vk::VulkanOptions options = validated(log);
    options.matmul_kernel = vk::MatmulKernel::idot;
    {
        vk::VulkanBackend backend(options);
        if (!backend.info().integer_dot_product) GTEST_SKIP() << "the Vulkan device has no integer dot products";
        int runs = 0;
        for (const GoldenCase& c : golden_cases()) {
            if (!c.quantized || c.experts) continue;
            GoldenRun g = load_golden(shared, c.dir, c.name, c.model_dir);
            GoldenResult r = run_token_by_token(g, backend, kVulkanQ8ModelNmse);
            EXPECT_LT(r.worst_nmse, kVulkanQ8ModelNmse) << c.name;
            EXPECT_EQ(r.id_mismatches, 0) << c.name;
            EXPECT_GE(r.decisive_rows, min_decisive_rows(g)) << c.name;
            std::printf("vulkan idot %-28s worst row NMSE %.3g, %d of %zu greedy ids decisive\n", c.name.c_str(),
                        r.worst_nmse, r.decisive_rows, g.gen_ids.size());
            ++runs;
        }
        EXPECT_GT(runs, 0) << "no quantized golden";
        const auto shaders = backend.pipelines().shaders();
        EXPECT_TRUE(shaders.count("quantize_q8")) << "integer dots forced, x never quantized";
    }
    expect_no_messages(log);
}

}  // namespace
}  // namespace kiln
#endif
