// The backend flags every graph-running command shares (apps/backend_flags.h), as a user meets
// them: `--vk-matmul KERNEL`, `--cpu-kernels SET`.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "backends/cpu/cpu_features.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

using Result = testing::KilnResult;
const auto run = testing::run_kiln_capture;

// An unknown kernel is an error whichever backend runs (under `auto` it would otherwise be lost
// in the fallback to the CPU).
TEST(BackendFlags, UnknownMatmulKernelIsAnError) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    for (const char* backend : {"auto", "cpu", "vulkan"}) {
        Result r = run({"run", "-m", model.string(), "-p", "hi", "-n", "1", "--backend", backend, "--vk-matmul", "bogus"});
        EXPECT_EQ(r.status, 1) << backend;
        EXPECT_EQ(r.err, "kiln: --vk-matmul: unknown kernel 'bogus' (lanes, vec, vec_shared, tiles, idot)\n") << backend;
        EXPECT_EQ(r.out, "") << backend;
    }
}

TEST(BackendFlags, CpuKernelSetsAreCheckedAndChosen) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    Result bad = run({"run", "-m", model.string(), "-p", "hi", "-n", "1", "--cpu-kernels", "sse9"});
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.err, "kiln: --cpu-kernels: unknown kernel set 'sse9' (auto, scalar, avx2, avx512, amx)\n");
    // Every set this CPU runs gives the same greedy text; the others are refused by name.
    std::string first;
    for (CpuIsa isa : kAllCpuIsas) {
        const std::string name(isa_name(isa));
        Result r = run({"run", "-m", model.string(), "-p", "Once upon a time", "-n", "8", "--temp", "0", "--backend",
                        "cpu", "--cpu-kernels", name});
        if (!cpu_supports_isa(isa)) {
            EXPECT_EQ(r.status, 1) << name;
            EXPECT_EQ(r.err, "kiln: --cpu-kernels: this CPU cannot run the " + name + " kernels\n");
            continue;
        }
        EXPECT_EQ(r.status, 0) << name << ": " << r.err;
        if (first.empty()) first = r.out;
        EXPECT_EQ(r.out, first) << name;
    }
}

// Weights mapped from the file or read into huge pages: the same text either way.
TEST(BackendFlags, MmapAndNoMmapGiveTheSameText) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    std::string first;
    for (const char* flag : {"--mmap", "--no-mmap"}) {
        Result r = run({"run", "-m", model.string(), "-p", "Once upon a time", "-n", "8", "--temp", "0", "--backend",
                        "cpu", flag});
        EXPECT_EQ(r.status, 0) << flag << ": " << r.err;
        if (first.empty()) first = r.out;
        EXPECT_EQ(r.out, first) << flag;
    }
}

TEST(BackendFlags, HelpNamesTheMatmulKernels) {
    Result r = run({"run", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE((r.out + r.err).find("--vk-matmul VALUE"), std::string::npos) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("lanes, vec, vec_shared, tiles or idot"), std::string::npos) << r.out << r.err;
}

#ifdef KILN_HAVE_VULKAN
// Experts on the CPU, the rest on Vulkan: llama.cpp's greedy story of a mixture of experts.
TEST(BackendFlags, ExpertsOnTheCpuTellTheGreedyStory) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    std::ifstream f(shared / "golden" / "synthetic" / "mixtral-f32.p1.json");
    const nlohmann::json j = nlohmann::json::parse(f);
    const std::string model = (shared / "models" / "synthetic" / j["model"].get<std::string>()).string();
    const std::string prompt = j["prompt"];
    for (std::vector<std::string> flags : {std::vector<std::string>{"--cpu-moe"}, {"--n-cpu-moe", "1"}}) {
        std::vector<std::string> cmd = {"run", "-m", model, "-p", prompt, "--temp", "0", "-n", "16", "--backend", "vulkan",
                                        "--device", "0"};
        cmd.insert(cmd.end(), flags.begin(), flags.end());
        Result r = run(cmd);
        ASSERT_EQ(r.status, 0) << flags[0] << ": " << r.err;
        // 16 generated tokens: the start of the golden's 32.
        std::string got = r.out;
        if (!got.empty() && got.back() == '\n') got.pop_back();
        const std::string want = prompt + j["text"].get<std::string>();
        EXPECT_GT(got.size(), prompt.size() + 16) << flags[0];
        EXPECT_EQ(want.compare(0, got.size(), got), 0) << flags[0] << ": " << got << "\nwant: " << want;
    }
}

// Every kernel, forced, tells llama.cpp's greedy story (f32 weights: lavapipe runs lanes by
// itself, so this is where vec, vec_shared and tiles meet a whole model).
TEST(BackendFlags, EveryMatmulKernelTellsTheGreedyStory) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    std::ifstream f(shared / "golden" / "stories260K.p1.json");
    const nlohmann::json j = nlohmann::json::parse(f);
    const std::string model = (shared / "models" / j["model"].get<std::string>()).string();
    const std::string prompt = j["prompt"];
    for (const char* kernel : {"auto", "lanes", "vec", "vec_shared", "tiles", "idot"}) {
        Result r = run({"run", "-m", model, "-p", prompt, "--temp", "0", "-n", "48", "--backend", "vulkan", "--device",
                        "0", "--vk-matmul", kernel});
        ASSERT_EQ(r.status, 0) << kernel << ": " << r.err;
        EXPECT_EQ(r.out, prompt + j["text"].get<std::string>() + "\n") << kernel;
    }
}
#endif

}  // namespace
}  // namespace kiln
