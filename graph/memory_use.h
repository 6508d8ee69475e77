#pragma once
// What a graph placed over backends keeps in each backend's memory: the weights its nodes read,
// its state (the KV cache), its peak intermediate arena and its inputs. Computed from the graph
// alone, before anything is allocated: `kiln info --graph` prints it and the session memory
// budget (models/session/memory_budget.h) checks it against what each backend can hold.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace kiln {

struct BackendMemoryUse {
    size_t nodes = 0;
    uint64_t arena = 0;     // peak of the intermediate arena (the largest of its segments')
    uint64_t weights = 0;   // each weight once
    uint64_t state = 0;     // each State tensor once (by name)
    uint64_t inputs = 0;    // host-written inputs, and tensors copied in from other backends
    uint64_t imported = 0;  // the part of `inputs` copied in from other backends each step
};

// One entry per backend index in `backend_of_node` (0 .. n_backends-1).
std::vector<BackendMemoryUse> memory_use(const Graph& g, const std::vector<int>& backend_of_node, size_t n_backends);

}  // namespace kiln
