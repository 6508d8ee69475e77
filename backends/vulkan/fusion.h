#pragma once
// Fusion is a decision of this backend, not a graph rewrite: when a graph is compiled, runs of
// consecutive nodes that one kernel can compute are recorded as one dispatch. The graph, the
// reference and the CPU stay node by node. A run's inner outputs must be Intermediates read by
// no node outside the run and not graph outputs, so nothing can observe that they were never
// stored (`kiln compare` therefore marks only what the runs produce as outputs, and compares
// each run at its output). VulkanOptions::fuse (`--no-fuse`) turns it off.
#include <cstddef>
#include <string_view>
#include <vector>

#include "backends/vulkan/ops/op_recorder.h"

namespace kiln::vk {

struct FusedRun {
    size_t first = 0;  // the run's first node
    size_t count = 0;  // nodes in the run
    std::string_view kernel;  // e.g. "rms_norm+mul"
};

// The runs of `g` this device records as one kernel, in node order (none when info.fuse is off).
std::vector<FusedRun> plan_fusion(const Graph& g, const DeviceInfo& info);

// Records `run` of r.graph() as its one kernel.
void record_fused(OpRecorder& r, const FusedRun& run);

}  // namespace kiln::vk
