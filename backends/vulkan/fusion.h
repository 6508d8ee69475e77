#pragma once
// Fusion is a decision of this backend, not a graph rewrite: when a graph is compiled, runs of
// consecutive nodes that one kernel can compute are recorded as one dispatch. The graph, the
// reference and the CPU stay node by node. A node of a run whose output another node of the run
// reads is inner: the kernel never stores it, so it must be an Intermediate read by no node
// outside the run and not a graph output; every other node's output is stored (the run's
// outputs: one, or several for projections of one x). `kiln compare` therefore marks only the
// runs' outputs as graph outputs and compares each run at them (kiln::run_stores). 
// VulkanOptions::fuse (`--no-fuse`) turns it off.
#include <cstddef>
#include <string>
#include <vector>

#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {

struct FusedRun {
    size_t first = 0;  // the run's first node
    size_t count = 0;  // nodes in the run
    std::string kernel;  // its ops, e.g. "rms_norm+mul+matmul*3"
    size_t pattern = 0;  // which kernel records it (fusion.cpp)
    std::vector<TensorId> weights_together;  // weights its kernel binds as one range (uploaded together)
};

// The runs of `g` this device records as one kernel, in node order (none when info.fuse is off).
// `together` says which weights can share a binding (VulkanBackend::weights_together).
std::vector<FusedRun> plan_fusion(const Graph& g, const DeviceInfo& info, const WeightsTogether& together);

// Records `run` of r.graph() as its one kernel.
void record_fused(OpRecorder& r, const FusedRun& run);

}  // namespace kiln::vk
