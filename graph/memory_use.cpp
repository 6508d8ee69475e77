#include "graph/memory_use.h"

#include <set>
#include <string>

#include "graph/memory_plan.h"
#include "graph/placement.h"

namespace kiln {

std::vector<BackendMemoryUse> memory_use(const Graph& g, const std::vector<int>& backend_of_node, size_t n_backends) {
    std::vector<BackendMemoryUse> use(n_backends);
    std::vector<std::set<const void*>> weights(n_backends);
    std::vector<std::set<std::string>> states(n_backends);
    for (const Segment& s : split_graph(g, backend_of_node)) {
        const auto b = static_cast<size_t>(s.backend);
        BackendMemoryUse& m = use[b];
        m.nodes += s.graph.nodes().size();
        m.arena = std::max(m.arena, plan_memory(s.graph).arena_bytes);
        for (const Tensor& t : s.graph.tensors()) {
            if (t.kind == TensorKind::Weight && weights[b].insert(t.host_data).second) m.weights += t.n_bytes();
            if (t.kind == TensorKind::State && states[b].insert(t.name).second) m.state += t.n_bytes();
            if (t.kind == TensorKind::Input) m.inputs += t.n_bytes();
        }
        for (const Transfer& imp : s.imports) m.imported += g.tensor(imp.global).n_bytes();
    }
    return use;
}

}  // namespace kiln
