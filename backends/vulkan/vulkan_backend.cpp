#include "backends/vulkan/vulkan_backend.h"

#include "backends/vulkan/fusion.h"
#include "backends/vulkan/memory_pool.h"
#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/vulkan_executable.h"
#include "graph/error.h"
#include "graph/host_release.h"

namespace kiln::vk {
namespace {

ContextOptions context_options(const VulkanOptions& o) {
    ContextOptions c;
    c.device_index = o.device_index;
    c.validation = o.validation;
    c.validation_sink = o.validation_sink;
    return c;
}

DeviceInfo info_with_options(const DeviceInfo& device, const VulkanOptions& o) {
    DeviceInfo info = device;
    info.matmul_kernel = o.matmul_kernel;
    info.fuse = o.fuse;
    if (o.norm_fold_max_cols) info.shapes.norm_fold_max_cols = *o.norm_fold_max_cols;
    return info;
}

}  // namespace

VulkanBackend::VulkanBackend(const VulkanOptions& options)
    : context_(context_options(options)),
      info_(info_with_options(context_.info(), options)),
      upload_progress_(options.upload_progress),
      pipelines_(context_.device()),
      weights_(context_.device()),
      states_(context_.device()) {
    if (!info().storage_16bit) {
        throw Error("Vulkan device " + info().name + " lacks 16-bit storage buffers, which kiln's shaders need");
    }
    // Weights are uploaded once per host address: a freed model's addresses may come back.
    release_listener_ = add_host_release_listener([this](const void* begin, const void* end) { weights_.forget(begin, end); });
}

VulkanBackend::~VulkanBackend() { remove_host_release_listener(release_listener_); }

bool VulkanBackend::supports(const Graph& g, const Node& n) const {
    const VulkanOp& op = vulkan_op(n.op);
    if (!op.supports || !op.supports(g, n, info())) return false;
    // Every tensor is bound as one range (plus up to the offset alignment before it).
    const uint64_t limit = info().max_storage_buffer_range;
    const uint64_t slack = std::max<uint64_t>(256, info().min_storage_buffer_offset_alignment);
    for (TensorId t : n.src) {
        if (t != kNoTensor && g.tensor(t).n_bytes() + slack > limit) return false;
    }
    return g.tensor(n.dst).n_bytes() + slack <= limit;
}

std::unique_ptr<Executable> VulkanBackend::compile(const Graph& g) {
    context_.device().check_alive();
    for (const Node& n : g.nodes()) {
        if (!supports(g, n)) {
            throw Error("vulkan: node " + g.tensor(n.dst).name + " (" + std::string(op_name(n.op)) +
                        ") is not supported on " + info().name);
        }
    }
    return std::make_unique<VulkanExecutable>(*this, g);
}

std::vector<KernelRun> VulkanBackend::fused_runs(const Graph& g) const {
    std::vector<KernelRun> out;
    for (const FusedRun& r : plan_fusion(g, info_, weights_together(g))) out.push_back({r.first, r.count, r.kernel});
    return out;
}

std::optional<DeviceMemoryUse> VulkanBackend::device_memory() const {
    const MemoryPoolUse u = context_.device().memory_pool().use();
    const auto bytes = [&](MemoryPurpose p) { return u.buffer_bytes[static_cast<size_t>(p)]; };
    return DeviceMemoryUse{u.allocations, u.allocated_bytes, bytes(MemoryPurpose::weights), bytes(MemoryPurpose::kv_cache),
                           bytes(MemoryPurpose::activations), bytes(MemoryPurpose::io)};
}

WeightsTogether VulkanBackend::weights_together(const Graph& g) const {
    return [this, &g](std::span<const TensorId> ids) {
        std::vector<WeightStore::Pending> ws;
        for (TensorId id : ids) {
            const Tensor& t = g.tensor(id);
            if (t.kind != TensorKind::Weight) return false;
            ws.push_back({t.host_data, t.n_bytes(), t.name});
        }
        return weights_.placeable_together(ws, info_.max_storage_buffer_range);
    };
}

}  // namespace kiln::vk
