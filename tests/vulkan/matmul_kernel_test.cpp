// VulkanOptions::matmul_kernel (`--vk-matmul`) picks the shader a matmul dispatches: recorded
// through a stand-in OpRecorder that notes each pipeline asked for, on described devices (a GPU,
// a CPU device like lavapipe), so no Vulkan device is needed except to see the option reach
// VulkanBackend::info().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/vulkan_backend.h"
#include "vulkan_test_support.h"

namespace kiln {
namespace {

using vk::MatmulKernel;

// Records the shader of every pipeline the op asks for; binds nothing and dispatches nothing.
class ShaderLog : public vk::OpRecorder {
public:
    ShaderLog(const Graph& g, const vk::DeviceInfo& info) : graph_(g), info_(info) {}
    const Graph& graph() const override { return graph_; }
    const vk::DeviceInfo& info() const override { return info_; }
    vk::TensorBinding bind(TensorId t) override {
        return {vk::BufferRange{VK_NULL_HANDLE, 0, (graph_.tensor(t).n_bytes() + 3) / 4 * 4}, 0};
    }
    std::vector<vk::TensorBinding> bind_together(std::span<const TensorId> ts) override {
        std::vector<vk::TensorBinding> out;
        for (TensorId t : ts) out.push_back(bind(t));
        return out;
    }
    vk::TensorBinding scratch(uint64_t bytes) override { return {vk::BufferRange{VK_NULL_HANDLE, 0, bytes}, 0}; }
    const vk::ComputePipeline& pipeline(const vk::PipelineDesc& desc) override {
        shaders.emplace_back(desc.shader);
        return pipeline_;
    }
    void dispatch(const vk::ComputePipeline&, std::span<const vk::TensorBinding>, std::span<const std::byte>,
                  uint32_t, uint32_t, uint32_t) override {}
    void barrier() override {}

    std::vector<std::string> shaders;

private:
    const Graph& graph_;
    const vk::DeviceInfo& info_;
    vk::ComputePipeline pipeline_;
};

// A GPU with a fixed subgroup of 32 and subgroup arithmetic: every kernel can run.
vk::DeviceInfo gpu() {
    vk::DeviceInfo info;
    info.type = vk::DeviceType::discrete_gpu;
    info.subgroup_size = info.min_subgroup_size = info.max_subgroup_size = 32;
    info.subgroup_arithmetic = true;
    info.max_workgroup_size = {1024, 1024, 64};
    info.max_workgroup_count = {65535, 65535, 65535};
    info.max_workgroup_invocations = 1024;
    info.max_shared_memory = 48 << 10;
    info.max_push_constants = 128;
    info.max_storage_buffer_range = uint64_t{1} << 30;
    info.min_storage_buffer_offset_alignment = 64;
    info.storage_16bit = true;
    return info;
}

// The shaders a matmul of `cols` columns with `weights` dispatches on `info` with `kernel` forced.
std::vector<std::string> shaders_for(vk::DeviceInfo info, MatmulKernel kernel, int64_t cols,
                                     DType weights = DType::F32) {
    info.matmul_kernel = kernel;
    const std::vector<uint8_t> w(row_bytes(weights, 256).value() * 16, 0);
    Graph g;
    const TensorId x = g.input("x", DType::F32, {256, cols, 1, 1});
    g.matmul(g.weight("w", weights, {256, 16, 1, 1}, w.data()), x);
    const Node& n = g.nodes().back();
    const vk::VulkanOp& op = vk::vulkan_op(n.op);
    EXPECT_TRUE(op.supports(g, n, info));
    ShaderLog log(g, info);
    op.record(log, n);
    return log.shaders;
}

using Shaders = std::vector<std::string>;

TEST(MatmulKernelOption, ForcesTheDispatchedShader) {
    const vk::DeviceInfo info = gpu();
    // By itself a GPU takes vec up to 8 columns, tiles beyond.
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 1), Shaders{"matmul_vec_f32_sg"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 64), Shaders{"matmul_mm_f32"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::lanes, 1), Shaders{"matmul_lanes_f32"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::vec, 64), Shaders{"matmul_vec_f32_sg"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::vec_shared, 1), Shaders{"matmul_vec_f32"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::tiles, 1), Shaders{"matmul_mm_f32"});
}

TEST(MatmulKernelOption, FallsBackWhereTheDeviceCannotRunIt) {
    vk::DeviceInfo varying = gpu();  // subgroup size control: lanes is impossible
    varying.min_subgroup_size = 8;
    varying.max_subgroup_size = 64;
    EXPECT_EQ(shaders_for(varying, MatmulKernel::lanes, 1), Shaders{"matmul_vec_f32_sg"});
    vk::DeviceInfo no_arithmetic = gpu();
    no_arithmetic.subgroup_arithmetic = false;
    EXPECT_EQ(shaders_for(no_arithmetic, MatmulKernel::vec, 1), Shaders{"matmul_vec_f32"});
    vk::DeviceInfo cpu = gpu();  // lavapipe: lanes by itself
    cpu.type = vk::DeviceType::cpu;
    EXPECT_EQ(shaders_for(cpu, MatmulKernel::automatic, 64), Shaders{"matmul_lanes_f32"});
    EXPECT_EQ(shaders_for(cpu, MatmulKernel::tiles, 64), Shaders{"matmul_mm_f32"});
}

// Integer dots: quantized weights on a device with the feature; by itself only where the
// device says they are accelerated (and never instead of lanes on a CPU device).
TEST(MatmulKernelOption, IntegerDotsForQuantizedWeights) {
    vk::DeviceInfo info = gpu();
    info.integer_dot_product = true;
    EXPECT_EQ(shaders_for(info, MatmulKernel::idot, 1, DType::Q4_0), (Shaders{"quantize_q8", "matmul_idot_vec_q4_0_sg"}));
    EXPECT_EQ(shaders_for(info, MatmulKernel::idot, 64, DType::Q6_K), (Shaders{"quantize_q8", "matmul_idot_mm_q6_k"}));
    EXPECT_EQ(shaders_for(info, MatmulKernel::idot, 1, DType::F16), Shaders{"matmul_vec_f16_sg"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 1, DType::Q4_0), Shaders{"matmul_vec_q4_0_sg"});
    info.integer_dot_accelerated = true;  // by itself from the table's idot_min_cols columns
    info.shapes.idot_min_cols = 9;
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 1, DType::Q4_0), Shaders{"matmul_vec_q4_0_sg"});
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 9, DType::Q4_K), (Shaders{"quantize_q8", "matmul_idot_mm_q4_k"}));
    EXPECT_EQ(shaders_for(info, MatmulKernel::tiles, 64, DType::Q4_0), Shaders{"matmul_mm_q4_0"});
    info.shapes.idot_min_cols = 1;
    info.subgroup_arithmetic = false;
    EXPECT_EQ(shaders_for(info, MatmulKernel::automatic, 1, DType::Q8_0), (Shaders{"quantize_q8", "matmul_idot_vec_q8_0"}));
    vk::DeviceInfo cpu = gpu();
    cpu.type = vk::DeviceType::cpu;
    cpu.integer_dot_product = cpu.integer_dot_accelerated = true;
    EXPECT_EQ(shaders_for(cpu, MatmulKernel::automatic, 1, DType::Q4_0), Shaders{"matmul_lanes_q4_0"});
    vk::DeviceInfo without = gpu();  // no integer dots: forcing them falls back
    EXPECT_EQ(shaders_for(without, MatmulKernel::idot, 1, DType::Q4_0), Shaders{"matmul_vec_q4_0_sg"});
}

TEST(MatmulKernelOption, ParsesTheFlagsNames) {
    EXPECT_EQ(vk::parse_matmul_kernel("idot"), MatmulKernel::idot);
    EXPECT_EQ(vk::parse_matmul_kernel("auto"), MatmulKernel::automatic);
    EXPECT_EQ(vk::parse_matmul_kernel("vec_shared"), MatmulKernel::vec_shared);
    EXPECT_EQ(vk::parse_matmul_kernel("tiles"), MatmulKernel::tiles);
    EXPECT_EQ(vk::parse_matmul_kernel("Tiles"), std::nullopt);
    EXPECT_EQ(vk::parse_matmul_kernel(""), std::nullopt);
}

TEST(MatmulKernelOption, ReachesTheBackendsInfo) {
    KILN_REQUIRE_VULKAN();
    vk::VulkanOptions options;
    options.matmul_kernel = MatmulKernel::tiles;
    vk::VulkanBackend backend(options);
    EXPECT_EQ(backend.info().matmul_kernel, MatmulKernel::tiles);
    EXPECT_EQ(backend.context().info().matmul_kernel, MatmulKernel::automatic);  // the device's own
    EXPECT_EQ(backend.info().name, backend.context().info().name);
}

}  // namespace
}  // namespace kiln
