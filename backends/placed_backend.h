#pragma once
// A device backend with a host backend behind it: place_graph decides per node (the first N
// layers on the device, the host for whatever the device cannot run), split_graph cuts the
// graph into segments, and run() executes them in order, moving each tensor that crosses
// from one backend to the other through host memory. A graph placed wholly on one backend
// compiles to that backend's executable unchanged.
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/placement.h"

namespace kiln {

class PlacedBackend : public Backend {
public:
    PlacedBackend(std::unique_ptr<Backend> device, std::unique_ptr<Backend> host, PlacementPolicy policy = {});
    ~PlacedBackend() override;

    std::string_view name() const override { return name_; }
    bool supports(const Graph& g, const Node& n) const override;
    // The device's (or host's) runs when it runs every node; none for a split graph, whose
    // segments fuse only within themselves.
    std::vector<KernelRun> fused_runs(const Graph& g) const override;
    std::unique_ptr<Executable> compile(const Graph& g) override;
    void release_state(std::string_view prefix) override;
    // The device's: a placed graph's host part is checked against host memory separately
    // (node_backends).
    std::optional<MemoryLimit> memory_limit() const override { return device_->memory_limit(); }
    std::optional<DeviceMemoryUse> device_memory() const override { return device_->device_memory(); }

    // kDeviceBackend or kHostBackend per node, as compile() places them.
    std::vector<int> placement(const Graph& g) const;
    Backend& device() const { return *device_; }
    Backend& host() const { return *host_; }
    const PlacementPolicy& policy() const { return policy_; }

private:
    std::unique_ptr<Backend> device_;
    std::unique_ptr<Backend> host_;
    PlacementPolicy policy_;
    std::string name_;
};

// The backends that run g's nodes when `backend` compiles it, and which one runs each node
// (an index into `backends`): a PlacedBackend's device and host, any other backend alone. For
// reports and memory budgets, which need each part of a placed graph on its own backend.
struct NodeBackends {
    std::vector<const Backend*> backends;
    std::vector<int> of_node;
};
NodeBackends node_backends(const Backend& backend, const Graph& g);

}  // namespace kiln
