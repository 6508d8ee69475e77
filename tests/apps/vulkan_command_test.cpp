// The Vulkan backend as a user reaches it: `kiln run --backend vulkan` (lavapipe in CI) prints
// llama.cpp's greedy stories like the CPU does, and `kiln compare` finds both backends agreeing
// node by node.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

using Result = testing::KilnResult;
const auto run = testing::run_kiln_capture;

#ifdef KILN_HAVE_VULKAN
TEST(VulkanCommand, GreedyStoriesMatchLlamaCpp) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    for (const char* name : {"stories260K.p1", "stories260K.p2", "TinyStories-656K.f16.p1", "tinystories-656k-q8_0.p1"}) {
        std::ifstream f(shared / "golden" / (std::string(name) + ".json"));
        const nlohmann::json j = nlohmann::json::parse(f);
        const std::string model = (shared / "models" / j["model"].get<std::string>()).string();
        const std::string prompt = j["prompt"];
        Result r = run({"run", "-m", model, "-p", prompt, "--temp", "0", "-n", "48", "--backend", "vulkan", "--device", "0"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, prompt + j["text"].get<std::string>() + "\n") << name;
    }
}

TEST(VulkanCommand, CompareFindsTheBackendsAgreeing) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    for (const char* model : {"stories260K.gguf", "tinystories-656k-q8_0.gguf"}) {
        Result r = run({"compare", "-m", (shared / "models" / model).string(), "-p", "Once upon a time", "--json"});
        ASSERT_EQ(r.status, 0) << model << "\n" << r.out << r.err;
        const nlohmann::json j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["failures"], 0);
        EXPECT_GT(j["nodes"].size(), 40u);
        for (const auto& n : j["nodes"]) {
            if (n["compared"]) {
                EXPECT_LE(n["nmse"].get<double>(), n["threshold"].get<double>()) << n.dump();
            }
        }
    }
    // Fused runs are compared at their outputs; --no-fuse compares every node.
    const std::string stories = (shared / "models" / "stories260K.gguf").string();
    for (bool fuse : {true, false}) {
        std::vector<std::string> argv = {"compare", "-m", stories, "-p", "Once upon a time", "--json"};
        if (!fuse) argv.push_back("--no-fuse");
        Result r = run(argv);
        ASSERT_EQ(r.status, 0) << r.out << r.err;
        const nlohmann::json j = nlohmann::json::parse(r.out);
        size_t inside = 0, compared = 0;
        for (const auto& n : j["nodes"]) {
            inside += n.contains("fused_into") ? 1 : 0;
            compared += n["compared"].get<bool>() ? 1 : 0;
        }
        if (fuse) {
            // The prompt's tokens on lavapipe, whose table folds norms into matmuls only for one
            // column: per layer (5) the norms inside rms_norm+mul (2), the rotated k inside the
            // attention-inputs kernel (1), gate and up inside their swiglu kernel (2), the
            // products inside two matmul+add (2); and the output norm (1): 36 nodes inside.
            EXPECT_EQ(inside, 36u);
        } else {
            EXPECT_EQ(inside, 0u);
        }
        EXPECT_EQ(compared + inside, j["nodes"].size());
    }
    Result info = run({"info", stories, "--graph", "--backend", "vulkan"});
    // info --graph shows the one-token graph: the norms fold into the projections and the head.
    for (const char* line : {"fused kernels: 26 (nodes 100 -> kernels 33)\n  rms_norm+mul+matmul*3 ",
                             "\n  rope*2+set_rows*2 ", "\n  rms_norm+mul+matmul*2+swiglu  nodes 13-17\n"}) {
        EXPECT_NE(info.out.find(line), std::string::npos) << line << "\n" << info.out;
    }
    Result text = run({"compare", "-m", stories, "-p", "Once upon a time"});
    EXPECT_EQ(text.status, 0);
    EXPECT_NE(text.out.find("all nodes within their thresholds"), std::string::npos) << text.out;
    // Every node of this model runs on Vulkan: the header names vulkan, not the placed pair.
    EXPECT_NE(text.out.find("compare cpu vs vulkan: "), std::string::npos) << text.out;
    // Ten nodes, the last, and a count of the rest that adds up to every node.
    const size_t nodes = std::stoul(text.out.substr(text.out.find(" tokens, ") + 9));
    const size_t more = text.out.find("\n(");
    ASSERT_NE(more, std::string::npos) << text.out;
    EXPECT_EQ(std::stoul(text.out.substr(more + 2)), nodes - 11) << text.out;
}

TEST(VulkanCommand, GpuLayersSplitTheModelAndKeepTheText) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    Result cpu = run({"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "24", "--backend", "cpu"});
    ASSERT_EQ(cpu.status, 0) << cpu.err;
    for (const char* layers : {"0", "2", "5"}) {
        Result r = run({"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "24", "--backend", "vulkan",
                        "--gpu-layers", layers});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, cpu.out) << "--gpu-layers " << layers;
    }
    Result info = run({"info", model, "--graph", "--backend", "vulkan", "--gpu-layers", "2", "-c", "64"});
    ASSERT_EQ(info.status, 0) << info.err;
    EXPECT_NE(info.out.find("memory per backend"), std::string::npos);
    EXPECT_NE(info.out.find("vulkan: 39 nodes"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("copied in"), std::string::npos);
}
#endif

// `kiln devices` names each device's class and the kernel sizes its row of the table gives.
TEST(VulkanCommand, DevicesPrintTheKernelTable) {
    KILN_REQUIRE_VULKAN();
    Result r = run({"devices"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(" table): flat "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(", tiles "), std::string::npos) << r.out;
}

// `kiln devices` measures the CPU's read bandwidth with the threads asked for.
TEST(VulkanCommand, DevicesPrintTheMemoryBandwidth) {
    Result r = run({"devices", "-t", "1"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("cpu: memory read bandwidth "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" GB/s with 1 thread\n"), std::string::npos) << r.out;
    Result bad = run({"devices", "-t", "0"});
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("--threads"), std::string::npos) << bad.err;
}

TEST(VulkanCommand, BadRequestsAreOneLineErrors) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    Result r = run({"run", "-m", model, "-p", "x", "--backend", "metal"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("unknown backend 'metal'"), std::string::npos) << r.err;
#ifdef KILN_HAVE_VULKAN
    if (!testing::vulkan_unavailable_reason()) {
        Result d = run({"run", "-m", model, "-p", "x", "--backend", "vulkan", "--device", "99"});
        EXPECT_EQ(d.status, 1);
        EXPECT_NE(d.err.find("99"), std::string::npos) << d.err;
        EXPECT_EQ(std::count(d.err.begin(), d.err.end(), '\n'), 1) << d.err;
    }
#endif
    Result c = run({"compare", "-m", model, "-p", "x", "--backends", "cpu"});
    EXPECT_EQ(c.status, 1);
    EXPECT_NE(c.err.find("two names"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace kiln
