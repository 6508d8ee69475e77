#pragma once
// Running one graph on two backends and comparing every node's output: the engine of
// `kiln compare`. Each node is held to its op's threshold propagated from its inputs' errors
// (graph/op_traits.h) and compared by graph/cross_check.h, so the first failing node is where
// the backends start to disagree.
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/cross_check.h"
#include "graph/graph.h"
#include "models/session/session.h"

namespace kiln {

struct NodeDiff {
    size_t index = 0;
    std::string name;
    std::string op;
    std::string shape;
    bool compared = false;  // false for outputs that cannot be read whole (strided views) or are never stored
    std::string fused_into;  // the fused kernel computing it without storing it (then not compared)
    Agreement agreement;  // b against a
    double threshold = 0;
    bool failed() const { return compared && !agreement.within(threshold); }
};

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

struct Comparison {
    std::string a_ran_on, b_ran_on;  // Executable::backend_name(): "vulkan" when no node fell back
    std::vector<NodeDiff> nodes;
};

// Marks every node's output as a graph output (so none is overwritten) except the inner
// outputs of either backend's fused runs, compiles `g` on both backends, writes `inputs`, runs
// once, and compares node by node (a fused run at its output).
Comparison compare_backends(Graph& g, std::span<const GraphInput> inputs, Backend& a, Backend& b,
                            const CompareProfile& profile = {});

struct ComparisonReport {
    std::string model;
    size_t n_tokens = 0;
    bool json = false;  // one JSON object instead of the table
    bool all = false;   // list every node, not only the first ten, the failures and the last
};

// `kiln compare`'s report; returns its exit status (1 when a node is past its threshold).
int print_comparison(const Comparison& c, const ComparisonReport& r, std::ostream& out);

}  // namespace kiln
