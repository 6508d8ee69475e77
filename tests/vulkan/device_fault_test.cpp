// The Vulkan backend when the device fails, by fault injection (backends/vulkan/fault_injection.h)
// under the validation layer: out of device memory for weights, the KV cache or the arena is one
// clear line and leaves the backend usable; a device lost at submit or at wait is one clear line,
// every later use fails fast with the same line without touching the device, and the backend
// is destroyed cleanly and promptly.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "backends/vulkan/device_error.h"
#include "backends/vulkan/fault_injection.h"
#include "validated_backend.h"

namespace kiln {
namespace {

using vk::testing::Fault;
using vk::testing::FaultPoint;
using Clock = std::chrono::steady_clock;

// A graph with one of each kind of device memory: a weight, an input, an intermediate in the
// arena, a state tensor (the KV cache's kind) and an output.
struct SmallGraph {
    std::vector<float> w = std::vector<float>(64, 0.5f);
    Graph g;
    TensorId x, ids, out;

    SmallGraph(const SmallGraph&) = delete;  // the graph points at w
    SmallGraph& operator=(const SmallGraph&) = delete;
    SmallGraph() {
        const TensorId wt = g.weight("w", DType::F32, {64, 1, 1, 1}, w.data());
        x = g.input("x", DType::F32, {64, 1, 1, 1});
        ids = g.input("ids", DType::I32, {1, 1, 1, 1});
        const TensorId cache = g.state("fault.cache", DType::F32, {64, 4, 1, 1});
        const TensorId y = g.add(x, wt);
        g.set_rows(cache, y, ids);
        out = g.scale(y, 2.0f);
        g.mark_output(out);
    }

    // Runs once with x = 1 and returns out[0] (2 * (1 + 0.5) = 3 on a healthy device).
    float run(Executable& e) const {
        const std::vector<float> ones(64, 1.0f);
        e.write(x, {reinterpret_cast<const uint8_t*>(ones.data()), ones.size() * sizeof(float)});
        const int32_t row = 1;
        e.write(ids, {reinterpret_cast<const uint8_t*>(&row), sizeof row});
        e.run();
        std::vector<float> got(64);
        e.read(out, {reinterpret_cast<uint8_t*>(got.data()), got.size() * sizeof(float)});
        return got[0];
    }
};

class DeviceFaultTest : public testing::ValidatedBackendTest {
protected:
    // What `call` throws; fails the test when it throws nothing else.
    template <typename Call>
    vk::DeviceError device_error(Call&& call) {
        try {
            call();
        } catch (const vk::DeviceError& e) {
            return e;
        }
        ADD_FAILURE() << "no DeviceError";
        return vk::DeviceError(vk::DeviceFault::lost, "");
    }

    vk::testing::FaultScope faults_;
};

TEST_F(DeviceFaultTest, OutOfMemoryNamesWhatDidNotFitAndLeavesTheBackendUsable) {
    struct Case {
        vk::MemoryPurpose purpose;
        const char* names;  // in the message
        const char* hint;
    };
    SmallGraph s;  // weights first: later cases find them placed
    for (const Case& c : {Case{vk::MemoryPurpose::weights, " for weights (heap ", "try --gpu-layers N"},
                          Case{vk::MemoryPurpose::kv_cache, " for the KV cache (heap ", "try a smaller -c"},
                          Case{vk::MemoryPurpose::activations, " for activations (heap ", "try a smaller -b"}}) {
        vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, 1, c.purpose});
        const vk::DeviceError e = device_error([&] { backend_->compile(s.g); });
        EXPECT_TRUE(vk::testing::fault_fired());
        EXPECT_EQ(e.fault(), vk::DeviceFault::out_of_memory);
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("vulkan: out of device memory allocating ", 0), 0u) << message;
        EXPECT_NE(message.find(c.names), std::string::npos) << message;
        EXPECT_NE(message.find(c.hint), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;

        // Nothing half-placed: the same graph compiles and runs once memory is there again.
        vk::testing::clear_faults();
        auto exe = backend_->compile(s.g);
        EXPECT_EQ(s.run(*exe), 3.0f);
        exe.reset();
        backend_->release_state("fault.");
    }
}

TEST_F(DeviceFaultTest, TheNthAllocationFails) {
    SmallGraph a, b, c;  // distinct host weights, uploaded separately
    backend_->compile(a.g).reset();  // the first weights open a weight block the others share
    backend_->release_state("fault.");
    vk::testing::clear_faults();
    backend_->compile(b.g).reset();
    backend_->release_state("fault.");
    const uint64_t allocations = vk::testing::fault_point_calls(FaultPoint::allocate_memory);
    EXPECT_GE(allocations, 3u);  // inputs, arena, state
    vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, allocations, std::nullopt});
    EXPECT_EQ(device_error([&] { backend_->compile(c.g); }).fault(), vk::DeviceFault::out_of_memory);
    EXPECT_TRUE(vk::testing::fault_fired());
}

void expect_lost_for_good(vk::VulkanBackend& backend, Executable& exe, const SmallGraph& s, const std::string& message,
                          const char* call) {
    EXPECT_EQ(message.rfind("vulkan: device lost (VK_ERROR_DEVICE_LOST from " + std::string(call) + ") on ", 0), 0u)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    // Every later use fails at once with the same line and never reaches the device.
    vk::testing::clear_faults();
    const auto start = Clock::now();
    auto same = [&](auto&& call) {
        try {
            call();
            ADD_FAILURE() << "no error after the device was lost";
        } catch (const vk::DeviceError& e) {
            EXPECT_EQ(e.fault(), vk::DeviceFault::lost);
            EXPECT_EQ(std::string(e.what()), message);
        }
    };
    same([&] { s.run(exe); });
    same([&] { exe.run(); });
    std::vector<float> got(64);
    same([&] { exe.read(s.out, {reinterpret_cast<uint8_t*>(got.data()), got.size() * sizeof(float)}); });
    same([&] { backend.compile(s.g); });
    EXPECT_EQ(vk::testing::fault_point_calls(FaultPoint::queue_submit), 0u);
    EXPECT_EQ(vk::testing::fault_point_calls(FaultPoint::wait_for_fences), 0u);
    EXPECT_EQ(vk::testing::fault_point_calls(FaultPoint::allocate_memory), 0u);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
}

TEST_F(DeviceFaultTest, DeviceLostAtSubmitFailsForGood) {
    SmallGraph s;
    auto exe = backend_->compile(s.g);
    EXPECT_EQ(s.run(*exe), 3.0f);
    vk::testing::inject_fault(Fault{FaultPoint::queue_submit, 1, std::nullopt});
    const vk::DeviceError e = device_error([&] { s.run(*exe); });
    EXPECT_EQ(e.fault(), vk::DeviceFault::lost);
    expect_lost_for_good(*backend_, *exe, s, e.what(), "vkQueueSubmit");
    // TearDown destroys the backend and checks the validation layer saw nothing wrong.
    const auto start = Clock::now();
    exe.reset();
    backend_.reset();
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_F(DeviceFaultTest, DeviceLostAtWaitFailsForGoodAndTearsDownCleanly) {
    SmallGraph s;
    auto exe = backend_->compile(s.g);
    vk::testing::inject_fault(Fault{FaultPoint::wait_for_fences, 1, std::nullopt});
    const vk::DeviceError e = device_error([&] { s.run(*exe); });
    EXPECT_EQ(e.fault(), vk::DeviceFault::lost);
    // The submitted work really runs on (the loss is injected): destroying the executable waits
    // for it, briefly, before its buffers go, so the validation layer sees no object in use.
    expect_lost_for_good(*backend_, *exe, s, e.what(), "vkWaitForFences");
    const auto start = Clock::now();
    exe.reset();
    backend_.reset();
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

// A loss while the weights are being placed (the KV cache is zeroed by a submit) fails the
// compile with the lost device's line.
TEST_F(DeviceFaultTest, DeviceLostWhileCompilingFailsTheCompile) {
    SmallGraph s;
    vk::testing::inject_fault(Fault{FaultPoint::wait_for_fences, 1, std::nullopt});
    const vk::DeviceError e = device_error([&] { backend_->compile(s.g); });
    EXPECT_EQ(e.fault(), vk::DeviceFault::lost);
    EXPECT_EQ(device_error([&] { backend_->compile(s.g); }).what(), std::string(e.what()));
}

}  // namespace
}  // namespace kiln
