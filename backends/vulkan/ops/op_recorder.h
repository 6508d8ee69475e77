#pragma once
// What an op's recording code sees: the graph, the device, tensors as shader bindings, cached
// pipelines, and dispatches appended to the graph's command buffer. The executable implements
// it; each op family (ops/*.cpp) records its node through it and nothing else, so a family is a
// shader plus one small function.
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/device_info.h"
#include "backends/vulkan/pipeline.h"
#include "graph/graph.h"

namespace kiln::vk {

// A tensor as a shader binding. Descriptor offsets must be multiples of the device's
// minStorageBufferOffsetAlignment, so the range starts at or before the tensor and `offset` is
// the tensor's first byte counted from the range's start: shaders add it (pass it in push
// constants, in bytes; divide by the element size the shader reads with).
struct TensorBinding {
    BufferRange range;
    uint32_t offset = 0;
};

class OpRecorder {
public:
    virtual ~OpRecorder() = default;
    virtual const Graph& graph() const = 0;
    virtual const DeviceInfo& info() const = 0;

    // The binding of any tensor of the graph (weights, inputs, state, intermediates, views).
    virtual TensorBinding bind(TensorId t) = 0;
    // Tensors that lie in one buffer (weights the store placed together) as one range: a binding
    // per tensor, all of the same range, each with its own offset. Throws when they do not.
    virtual std::vector<TensorBinding> bind_together(std::span<const TensorId> ts) = 0;
    // A device buffer of at least `bytes` for this node's own temporaries (split-K partials,
    // quantized activations). Valid until the node's last dispatch; contents undefined.
    virtual TensorBinding scratch(uint64_t bytes) = 0;

    // Created on first use and cached by shader name and constants for the backend's lifetime.
    virtual const ComputePipeline& pipeline(const PipelineDesc& desc) = 0;

    // Appends a dispatch; buffers[i] goes to binding i. Groups beyond the device limit throw.
    virtual void dispatch(const ComputePipeline& p, std::span<const TensorBinding> buffers,
                          std::span<const std::byte> push, uint32_t groups_x, uint32_t groups_y = 1,
                          uint32_t groups_z = 1) = 0;
    template <typename Push>
        requires std::is_trivially_copyable_v<Push>
    void dispatch(const ComputePipeline& p, std::span<const TensorBinding> buffers, const Push& push,
                  uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1) {
        dispatch(p, buffers, std::as_bytes(std::span(&push, 1)), groups_x, groups_y, groups_z);
    }

    // Between two dispatches of one node when the second reads what the first wrote. The
    // executable already puts a barrier between nodes.
    virtual void barrier() = 0;
};

}  // namespace kiln::vk
