#pragma once
// The Vulkan backend: a device chosen by index (or the best one), weights uploaded once into
// large device blocks, the KV cache in device buffers shared by name, pipelines cached, and each
// compiled graph recorded into one command buffer that every run() replays with one submit.
#include <memory>
#include <optional>

#include "backends/backend.h"
#include "backends/vulkan/context.h"
#include "backends/vulkan/device_store.h"
#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/pipeline_cache.h"

namespace kiln::vk {

struct VulkanOptions {
    std::optional<uint32_t> device_index;  // `--device N`; unset: the best usable device
    bool validation = false;               // VK_LAYER_KHRONOS_validation (also KILN_VK_VALIDATION=1)
    ValidationSink validation_sink;
    UploadProgress upload_progress;        // weights uploaded by compile()
    MatmulKernel matmul_kernel = MatmulKernel::automatic;  // `--vk-matmul`: force one matmul kernel family
    bool fuse = true;  // `--no-fuse` turns off: every node its own dispatch (backends/vulkan/fusion.h)
    // Replaces the device table's KernelShapes::norm_fold_max_cols (tests fold the norm into every
    // kernel family at any column count).
    std::optional<uint32_t> norm_fold_max_cols;
};

class VulkanBackend : public Backend {
public:
    // Throws kiln::Error when there is no Vulkan, no usable device, or the device lacks what
    // kiln's shaders need (16-bit storage).
    explicit VulkanBackend(const VulkanOptions& options = {});
    ~VulkanBackend() override;

    std::string_view name() const override { return "vulkan"; }
    bool supports(const Graph& g, const Node& n) const override;
    std::unique_ptr<Executable> compile(const Graph& g) override;
    void release_state(std::string_view prefix) override { states_.release(prefix); }
    std::vector<KernelRun> fused_runs(const Graph& g) const override;
    std::optional<MemoryLimit> memory_limit() const override { return device_memory_limit(info_); }
    std::optional<DeviceMemoryUse> device_memory() const override;

    const Context& context() const { return context_; }
    const PipelineCache& pipelines() const { return pipelines_; }
    // The device's info with the options ops choose kernels by (matmul_kernel).
    const DeviceInfo& info() const { return info_; }
    uint64_t weight_bytes() const { return weights_.bytes(); }
    // Whether weights of `g` can be bound as one range: already uploaded into one buffer close
    // enough, or not uploaded yet (compile() then places them together).
    WeightsTogether weights_together(const Graph& g) const;

private:
    friend class VulkanExecutable;

    Context context_;
    DeviceInfo info_;
    UploadProgress upload_progress_;
    PipelineCache pipelines_;
    WeightStore weights_;
    StateBuffers states_;
    uint64_t release_listener_ = 0;  // graph/host_release.h: forgets uploads of freed host bytes
};

}  // namespace kiln::vk
