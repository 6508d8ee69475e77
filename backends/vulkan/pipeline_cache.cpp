#include "backends/vulkan/pipeline_cache.h"

namespace kiln::vk {

const ComputePipeline& PipelineCache::get(const PipelineDesc& desc) {
    std::string key(desc.shader);
    key += "/" + std::to_string(desc.storage_buffers) + "/" + std::to_string(desc.push_constant_bytes);
    for (uint32_t c : desc.spec_constants) key += "/" + std::to_string(c);
    auto& slot = pipelines_[key];
    if (!slot) {
        slot = std::make_unique<ComputePipeline>(device_, desc);
        shaders_.insert(std::string(desc.shader));
    }
    return *slot;
}

}  // namespace kiln::vk
