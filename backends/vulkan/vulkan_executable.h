#pragma once
// One graph compiled for the Vulkan backend: every tensor resolved to a buffer and offset
// (weights in the backend's blocks, inputs in one host-visible buffer, state by name,
// intermediates in the planned arena), and all nodes recorded once into a command buffer that
// run() replays with a single submit (recorded again only when profiling is turned on or off).
// Barriers follow the data: one is recorded only before a dispatch that reads or overwrites
// bytes an unfenced dispatch wrote, or overwrites bytes one read, so independent nodes overlap.
// Op families record their nodes through OpRecorder. What a run asks of the device is counted
// (run_counts): dispatches, barriers and bytes bound for reading once per recording, submits
// and waits as they happen.
#include <map>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/commands.h"
#include "backends/vulkan/descriptors.h"
#include "backends/vulkan/fusion.h"
#include "backends/vulkan/timestamps.h"
#include "backends/vulkan/ops/op_recorder.h"
#include "graph/memory_plan.h"

namespace kiln::vk {

class VulkanBackend;

class VulkanExecutable : public Executable, private OpRecorder {
public:
    // Uploads the graph's weights not yet on the device and records the command buffer.
    VulkanExecutable(VulkanBackend& backend, const Graph& g);
    ~VulkanExecutable() override;

    void write(TensorId t, std::span<const uint8_t> bytes) override;
    void read(TensorId t, std::span<uint8_t> bytes) const override;
    void run() override;
    uint64_t arena_bytes() const override { return plan_.arena_bytes; }
    std::string backend_name() const override { return "vulkan"; }
    // Re-records the command buffer with (or without) a timestamp after every node.
    void set_profiling(bool on) override;
    std::span<const NodeTiming> node_timings() const override { return timings_; }
    // Barriers count those in the recording; a read() or write() that has to go through a
    // staging copy adds its own submit and wait.
    std::optional<RunCounts> run_counts() const override;

private:
    // Where a tensor's first byte lives.
    struct Location {
        const Buffer* buffer = nullptr;
        VkDeviceSize offset = 0;
    };

    void place_tensors();
    void record();
    void record_barrier(Barrier kind);
    // Records a barrier before a dispatch only where it reads or overwrites what a dispatch
    // since the last barrier wrote, or overwrites what one read (memory-plan reuse).
    void fence_hazards(std::span<const BufferRange> reads, std::span<const BufferRange> writes);

    // OpRecorder
    const Graph& graph() const override { return graph_; }
    const DeviceInfo& info() const override;
    TensorBinding bind(TensorId t) override;
    std::vector<TensorBinding> bind_together(std::span<const TensorId> ts) override;
    TensorBinding scratch(uint64_t bytes) override;
    const ComputePipeline& pipeline(const PipelineDesc& desc) override;
    void dispatch(const ComputePipeline& p, std::span<const TensorBinding> buffers, std::span<const std::byte> push,
                  uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) override;
    void barrier() override;

    VulkanBackend& backend_;
    const Graph& graph_;
    MemoryPlan plan_;
    std::vector<Location> where_;  // per tensor id
    std::unique_ptr<Buffer> arena_;
    std::unique_ptr<Buffer> inputs_;
    std::unique_ptr<Buffer> readback_;             // outputs copied here when not host-visible
    std::map<TensorId, VkDeviceSize> readback_at_;  // output storage tensor -> offset in readback_
    std::vector<DescriptorPool> pools_;
    uint32_t pool_sets_ = 0;
    uint32_t pool_buffers_ = 0;
    std::vector<std::unique_ptr<Buffer>> scratch_;  // every temporary stays alive with the recording
    size_t scratch_used_ = 0;                       // of scratch_, by the node being recorded
    CommandBuffer commands_;
    // Counted while recording: dispatches, barriers, bytes bound for reading. The source tensors'
    // ranges bound by the node being recorded tell a dispatch's inputs from its outputs.
    RunCounts recorded_;
    std::vector<TensorId> sources_;  // what the kernel being recorded reads
    std::vector<FusedRun> fused_;     // runs of nodes recorded as one kernel
    std::vector<BufferRange> source_ranges_;
    std::vector<BufferRange> unfenced_reads_, unfenced_writes_;  // bound since the last barrier
    // Counted by run() and by the read()/write() calls after it (mutable: read() is const).
    mutable uint64_t submits_ = 0, host_waits_ = 0;
    // Profiling: query i is written before node i runs, query n after the last node.
    std::unique_ptr<TimestampQueries> timestamps_;
    std::vector<NodeTiming> timings_;
};

}  // namespace kiln::vk
