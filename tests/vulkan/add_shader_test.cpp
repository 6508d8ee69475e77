// Dispatches binary_add (shaders/binary.comp) through the device layer alone (pipeline, descriptors,
// commands, no backend) and compares with the CPU exactly.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/commands.h"
#include "backends/vulkan/descriptors.h"
#include "backends/vulkan/pipeline.h"
#include "backends/vulkan/timestamps.h"
#include "backends/vulkan/transfer.h"
#include "vulkan/vulkan_test_support.h"

namespace kiln::vk {
namespace {

// The push constants of shaders/binary.comp (binary_add), for c[i] = a[i] + b[i % nb]: a is one
// row of n f32, b one row of nb f32 whose index wraps.
struct AddParams {
    uint32_t n, ne0, ne1, ne2;
    uint32_t a_offset, a_nb1, a_nb2, a_nb3, a_type;
    uint32_t b_ne0, b_ne1, b_ne2, b_ne3;
    uint32_t b_offset, b_nb1, b_nb2, b_nb3, b_type;
};
static_assert(sizeof(AddParams) == 18 * 4);

AddParams add_params(uint32_t n, uint32_t nb) {
    return {n, n, 1, 1, 0, n, n, n, 0, nb, 1, 1, 1, 0, nb, nb, nb, 0};
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-100.0f, 100.0f);
    std::vector<float> values(count);
    for (auto& v : values) v = dist(rng);
    return values;
}

std::vector<float> cpu_add(const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<float> c(a.size());
    for (size_t i = 0; i < a.size(); ++i) c[i] = a[i] + b[i % b.size()];
    return c;
}

Buffer upload_floats(const Device& device, const std::vector<float>& values) {
    Buffer buffer(device, values.size() * sizeof(float), MemoryUse::device);
    upload(device, buffer, std::as_bytes(std::span(values)));
    return buffer;
}

std::vector<float> download_floats(const Device& device, const Buffer& buffer, size_t count) {
    std::vector<float> values(count);
    download(device, buffer, std::as_writable_bytes(std::span(values)));
    return values;
}

ComputePipeline add_pipeline(const Device& device, uint32_t workgroup_size) {
    return ComputePipeline(device, {.shader = "binary_add",
                                    .storage_buffers = 3,
                                    .push_constant_bytes = sizeof(AddParams),
                                    .spec_constants = {workgroup_size}});
}

// c = a + broadcast(b) on the device; `max_groups` caps the grid so kernels must grid-stride.
std::vector<float> gpu_add(const Device& device, const std::vector<float>& a, const std::vector<float>& b,
                           uint32_t workgroup_size, uint32_t max_groups) {
    const ComputePipeline pipeline = add_pipeline(device, workgroup_size);
    const Buffer a_buf = upload_floats(device, a);
    const Buffer b_buf = upload_floats(device, b);
    const Buffer c_buf(device, a.size() * sizeof(float), MemoryUse::device);
    DescriptorPool pool(device, 1, 3);
    const BufferRange ranges[] = {a_buf.range(), b_buf.range(), c_buf.range()};
    const VkDescriptorSet set = pool.allocate(pipeline, ranges);

    CommandBuffer commands(device);
    commands.begin();
    const auto n = static_cast<uint32_t>(a.size());
    commands.dispatch(pipeline, set, add_params(n, static_cast<uint32_t>(b.size())),
                      group_count(n, workgroup_size, max_groups));
    commands.end();
    commands.submit_and_wait();
    return download_floats(device, c_buf, a.size());
}

struct AddCase {
    uint32_t n;
    uint32_t nb;
};

class AddShader : public VulkanTest, public ::testing::WithParamInterface<AddCase> {};

TEST_P(AddShader, MatchesCpuExactly) {
    const auto [n, nb] = GetParam();
    const auto a = random_floats(n, n);
    const auto b = random_floats(nb, nb + 1);
    const auto expected = cpu_add(a, b);
    const uint32_t max_groups = device().info().max_workgroup_count[0];
    EXPECT_EQ(gpu_add(device(), a, b, 64, max_groups), expected);
}

INSTANTIATE_TEST_SUITE_P(Sizes, AddShader,
                         ::testing::Values(AddCase{1, 1}, AddCase{7, 7}, AddCase{7, 1}, AddCase{1000, 1000},
                                           AddCase{1000, 100}, AddCase{1000, 3}, AddCase{65537, 65537},
                                           AddCase{65537, 1}, AddCase{65537, 256}),
                         [](const auto& info) {
                             std::ostringstream name;
                             name << "n" << info.param.n << "_nb" << info.param.nb;
                             return name.str();
                         });

using AddShaderGrid = VulkanTest;

// Workgroup size comes from the specialization constant; few groups force the grid-stride loop.
// lavapipe (llvmpipe) ends an invocation's loops after 65535 iterations in all, so no case here
// gives one invocation more elements than that (1 x 1 would: 65537).
TEST_F(AddShaderGrid, WorkgroupSizesAndCappedGroups) {
    const auto a = random_floats(65537, 3);
    const auto b = random_floats(256, 4);
    const auto expected = cpu_add(a, b);
    const uint32_t max_size = std::min(device().info().max_workgroup_size[0], device().info().max_workgroup_invocations);
    for (uint32_t workgroup_size : {1u, 32u, std::min(256u, max_size)}) {
        for (uint32_t max_groups : {2u, 5u, 1000u}) {
            EXPECT_EQ(gpu_add(device(), a, b, workgroup_size, max_groups), expected)
                << "workgroup " << workgroup_size << ", at most " << max_groups << " groups";
        }
    }
}

// A recording replays unchanged with new input, and a copy after a barrier sees the kernel's
// output (synchronization validation checks the barriers when the layer is installed).
TEST_F(AddShaderGrid, ReplayWithCopyAndTimestamps) {
    const uint32_t n = 4096;
    auto a = random_floats(n, 5);
    const auto b = random_floats(n, 6);
    const ComputePipeline pipeline = add_pipeline(device(), 128);
    const Buffer a_buf = upload_floats(device(), a);
    const Buffer b_buf = upload_floats(device(), b);
    const Buffer c_buf(device(), n * sizeof(float), MemoryUse::device);
    const Buffer result(device(), n * sizeof(float), MemoryUse::readback);
    DescriptorPool pool(device(), 1, 3);
    const BufferRange ranges[] = {a_buf.range(), b_buf.range(), c_buf.range()};
    const VkDescriptorSet set = pool.allocate(pipeline, ranges);

    std::optional<TimestampQueries> timestamps;
    if (device().queue_timestamps()) timestamps.emplace(device(), 2);
    CommandBuffer commands(device());
    commands.begin();
    if (timestamps) {
        commands.reset_queries(*timestamps);
        commands.write_timestamp(*timestamps, 0);
    }
    commands.dispatch(pipeline, set, add_params(n, n), group_count(n, 128, 1u << 16));
    commands.barrier(Barrier::compute_to_transfer);
    commands.copy(c_buf, result, n * sizeof(float));
    commands.barrier(Barrier::to_host);
    if (timestamps) commands.write_timestamp(*timestamps, 1);
    commands.end();

    for (int round = 0; round < 2; ++round) {
        if (round == 1) {
            a = random_floats(n, 7);
            upload(device(), a_buf, std::as_bytes(std::span(a)));
        }
        commands.submit_and_wait();
        EXPECT_EQ(download_floats(device(), result, n), cpu_add(a, b)) << "round " << round;
        if (timestamps) {
            EXPECT_GE(timestamps->read_ns()[1], 0.0);
        }
    }
}

TEST_F(AddShaderGrid, WrongBindingsAndPushSizeAreCleanErrors) {
    const ComputePipeline pipeline = add_pipeline(device(), 64);
    const Buffer buffer(device(), 64, MemoryUse::device);
    DescriptorPool pool(device(), 1, 3);
    const BufferRange two[] = {buffer.range(), buffer.range()};
    EXPECT_THROW(pool.allocate(pipeline, two), kiln::Error);

    const BufferRange three[] = {buffer.range(), buffer.range(), buffer.range()};
    const VkDescriptorSet set = pool.allocate(pipeline, three);
    CommandBuffer commands(device());
    commands.begin();
    EXPECT_THROW(commands.dispatch(pipeline, set, uint32_t{1}, 1), kiln::Error);
    commands.end();
}

}  // namespace
}  // namespace kiln::vk
