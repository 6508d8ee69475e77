#pragma once
// Scheduling a graph over backends: which backend runs each node (place_graph), and the graph
// cut into segments of consecutive nodes on one backend (split_graph), each a graph of its own
// whose inputs include what earlier segments produced. Backends stay abstract here: a backend
// is an index, and what it can run is a predicate.
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace kiln {

// Backend 0 is the device (e.g. Vulkan), backend 1 the host (CPU), which runs everything.
constexpr int kDeviceBackend = 0;
constexpr int kHostBackend = 1;

struct PlacementPolicy {
    // Layers [0, device_layers) go to the device; the input embedding goes with them when
    // device_layers > 0 and the output head when all layers are on the device. < 0: all.
    int device_layers = -1;
    // Mixture-of-experts layers [0, host_expert_layers) keep their experts on the host (< 0:
    // every layer): the expert matmuls (mul_mat_id) and the swiglu between them run on the CPU,
    // so the experts' weights never go to the device while attention and routing do (llama.cpp's
    // --cpu-moe / --n-cpu-moe, for large MoE models on small GPUs).
    int host_expert_layers = 0;
};

// Per node, kDeviceBackend or kHostBackend. Nodes the device cannot run fall back to the host;
// every node touching one State tensor (the KV cache of a layer) shares one backend, since
// state lives in one backend's memory.
std::vector<int> place_graph(const Graph& g, const PlacementPolicy& policy,
                             const std::function<bool(const Node&)>& device_supports);

struct Transfer {
    TensorId global;  // the tensor in the original graph (a storage root)
    TensorId local;   // its id in the segment's graph
};

struct Segment {
    int backend = kHostBackend;
    Graph graph;
    std::vector<TensorId> local_of;  // original tensor id -> id in `graph`, kNoTensor when absent
    std::vector<Transfer> imports;   // filled from earlier segments before this one runs
    std::vector<Transfer> exports;   // read by later segments (marked outputs of `graph`)
};

// Consecutive nodes on one backend form a segment. A tensor produced in one segment and read
// in a later one becomes an Input there (importing its whole storage root; views are rebuilt).
// Inputs, weights and state keep their kind and name in every segment that uses them.
// Outputs of `g` are outputs of the segment that last writes them.
std::vector<Segment> split_graph(const Graph& g, const std::vector<int>& backend_of_node);

}  // namespace kiln
