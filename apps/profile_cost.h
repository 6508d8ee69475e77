#pragma once
// What one node moves and computes, for the profile's GB/s and GFLOP/s. A model of the work,
// not a measurement (kCostModel says how it counts, for the table and the README).
#include <cstdint>

#include "graph/graph.h"

namespace kiln {

struct NodeCost {
    uint64_t bytes = 0;  // read + written
    double flops = 0;
};

NodeCost node_cost(const Graph& g, const Node& n);

inline constexpr const char* kCostModel =
    "bytes = every source + the output (whole weights and KV-cache views; get_rows/set_rows only the rows they "
    "gather or scatter); FLOPs: matmul 2*k*n*m, flash_attn 4*d*kv*hq*t over the whole cache view (masked keys "
    "included), copies 0, everything else 1 per output element";

}  // namespace kiln
