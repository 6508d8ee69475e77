#pragma once
// Text listing of a graph: one line per node (index, op, output name, dtype, shape, backend,
// inputs), then memory per backend (arena peak, weights, state) and what crosses between
// backends each step. Used by `kiln info --graph`.
#include <iosfwd>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"

namespace kiln {

struct GraphPlacement {
    std::vector<int> backend_of_node;  // index into names
    std::vector<std::string> names;
    std::vector<KernelRun> fused;  // runs of nodes a backend records as one kernel
};

void print_graph(const Graph& g, const GraphPlacement& placement, std::ostream& out);

}  // namespace kiln
