#pragma once
// Text listing of a graph: one line per node (index, op, output name, dtype, shape, inputs)
// and the memory plan's totals. Used by `kiln info --graph`.
#include <iosfwd>

#include "graph/graph.h"

namespace kiln {

void print_graph(const Graph& g, std::ostream& out);

}  // namespace kiln
