// `kiln run` when the Vulkan device fails (fault injection: backends/vulkan/fault_injection.h),
// as a user meets it: out of device memory for the weights, the KV cache or the arena is one
// line and status 1 with nothing printed; `--backend auto` falls back to the CPU with a one-line
// notice and the CPU's greedy tokens; a device lost mid-generation ends the command with one
// line and status 1, promptly.
#include <gtest/gtest.h>

#include <chrono>

#include "apps/run_kiln_support.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/fault_injection.h"
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

#ifdef KILN_HAVE_VULKAN
using Result = testing::KilnResult;
using vk::testing::Fault;
using vk::testing::FaultPoint;
const auto run = testing::run_kiln_capture;

std::vector<std::string> greedy(const std::string& model, const std::string& backend) {
    return {"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "24", "-t", "2", "--backend", backend,
            "--device", "0"};
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

TEST(DeviceFaultCommand, OutOfDeviceMemoryIsOneLineAndNothingPrinted) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    KILN_REQUIRE_VULKAN();
    vk::testing::FaultScope faults;
    struct Case {
        vk::MemoryPurpose purpose;
        const char* says;
    };
    for (const Case& c : {Case{vk::MemoryPurpose::weights, " for weights (heap "},
                          Case{vk::MemoryPurpose::kv_cache, " for the KV cache (heap "},
                          Case{vk::MemoryPurpose::activations, " for activations (heap "}}) {
        vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, 1, c.purpose});
        const Result r = run(greedy(model.string(), "vulkan"));
        EXPECT_TRUE(vk::testing::fault_fired()) << c.says;
        EXPECT_EQ(r.status, 1) << c.says;
        EXPECT_EQ(r.out, "") << c.says;  // the model is placed before the prompt is echoed
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_EQ(r.err.rfind("kiln: vulkan: out of device memory allocating ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("; try "), std::string::npos) << r.err;
    }
}

// `auto` (here with --device, as lavapipe alone is not chosen by default) runs on the CPU when
// the device cannot hold the model, and says so in one line: the same greedy tokens as the CPU.
TEST(DeviceFaultCommand, AutoFallsBackToTheCpu) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    KILN_REQUIRE_VULKAN();
    vk::testing::FaultScope faults;
    const Result cpu = run(greedy(model.string(), "cpu"));
    ASSERT_EQ(cpu.status, 0) << cpu.err;
    for (vk::MemoryPurpose purpose : {vk::MemoryPurpose::weights, vk::MemoryPurpose::kv_cache}) {
        vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, 1, purpose});
        const Result r = run(greedy(model.string(), "auto"));
        EXPECT_TRUE(vk::testing::fault_fired());
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, cpu.out);
        const std::string notice = "kiln run: the Vulkan device cannot hold the model (vulkan: out of device memory";
        EXPECT_EQ(r.err.rfind(notice, 0), 0u) << r.err;
        EXPECT_NE(r.err.find("); running on the CPU\n"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("kiln: "), std::string::npos) << r.err;  // no error line
    }
    // Asked for by name, the device's error stands.
    vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, 1, vk::MemoryPurpose::weights});
    EXPECT_EQ(run(greedy(model.string(), "vulkan")).status, 1);
}

// A device lost mid-generation (at a submit or a wait, a few tokens in) ends `kiln run` with the
// lost device's one line and status 1; nothing hangs, and tearing everything down after the
// loss is clean (the command returns).
TEST(DeviceFaultCommand, DeviceLostMidGenerationEndsTheCommand) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    KILN_REQUIRE_VULKAN();
    vk::testing::FaultScope faults;
    const Result clean = run(greedy(model.string(), "vulkan"));
    ASSERT_EQ(clean.status, 0) << clean.err;
    for (auto [point, call] : {std::pair{FaultPoint::queue_submit, "vkQueueSubmit"},
                               std::pair{FaultPoint::wait_for_fences, "vkWaitForFences"}}) {
        const uint64_t calls = vk::testing::fault_point_calls(point);
        ASSERT_GT(calls, 10u);  // a submit and a wait per token at least
        vk::testing::inject_fault(Fault{point, calls - 5, std::nullopt});
        const auto start = std::chrono::steady_clock::now();
        const Result r = run(greedy(model.string(), "vulkan"));
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
        EXPECT_TRUE(vk::testing::fault_fired()) << call;
        EXPECT_EQ(r.status, 1) << call;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_EQ(r.err.rfind("kiln: vulkan: device lost (VK_ERROR_DEVICE_LOST from " + std::string(call) + ") on ", 0),
                  0u)
            << r.err;
        // Generation had begun: the prompt and some of the story were printed.
        EXPECT_EQ(r.out.rfind("Once upon a time", 0), 0u) << r.out;
        EXPECT_LT(r.out.size(), clean.out.size()) << r.out;
        vk::testing::clear_faults();
        ASSERT_EQ(run(greedy(model.string(), "vulkan")).status, 0);  // counts the calls again
    }
}
#endif

}  // namespace
}  // namespace kiln
