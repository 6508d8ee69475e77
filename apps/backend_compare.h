#pragma once
// Running one graph on two backends and comparing every node's output: the engine of
// `kiln compare`. Errors propagate through a network, so a node fails only when its error
// exceeds its op's own threshold (from ggml's test-backend-ops) plus ten times the largest
// error among its inputs: the first failing node is where the backends start to disagree.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"
#include "models/session/session.h"

namespace kiln {

struct NodeDiff {
    size_t index = 0;
    std::string name;
    std::string op;
    std::string shape;
    bool compared = false;  // false for outputs that cannot be read whole (strided views)
    double nmse = 0;
    double max_abs = 0;
    double threshold = 0;
    bool nan_mismatch = false;  // NaN/Inf where the other backend has a finite value
    bool failed() const { return compared && (nan_mismatch || nmse > threshold); }
};

// The op's threshold when its inputs agree exactly.
double op_nmse_threshold(Op op);

struct GraphInput {
    TensorId tensor;
    std::vector<uint8_t> bytes;
};

// Profiling the two runs (kiln compare --profile): with a sink, both executables time their
// nodes and each run goes to it as one step, a's first.
struct CompareProfile {
    ProfileSink sink;
    int graph_tokens = 0;  // the graph's chunk size, for the report
};

// Marks every node's output as a graph output (so none is overwritten), compiles `g` on both
// backends, writes `inputs`, runs once, and compares node by node.
std::vector<NodeDiff> compare_backends(Graph& g, std::span<const GraphInput> inputs, Backend& a, Backend& b,
                                       const CompareProfile& profile = {});

}  // namespace kiln
