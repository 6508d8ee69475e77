#pragma once
// Compute pipelines created on first use and kept for the backend's lifetime, keyed by shader
// name, binding count, push constant size and specialization constants.
#include <map>
#include <memory>
#include <set>
#include <string>

#include "backends/vulkan/pipeline.h"

namespace kiln::vk {

class PipelineCache {
public:
    explicit PipelineCache(const Device& device) : device_(device) {}
    const ComputePipeline& get(const PipelineDesc& desc);
    size_t size() const { return pipelines_.size(); }
    // The shaders that have a pipeline: which kernels the graphs compiled so far dispatch
    // (tests check that a forced kernel family is the one that ran).
    const std::set<std::string>& shaders() const { return shaders_; }

private:
    const Device& device_;
    std::map<std::string, std::unique_ptr<ComputePipeline>> pipelines_;
    std::set<std::string> shaders_;
};

}  // namespace kiln::vk
