#include "apps/graph_print.h"

#include <ostream>

#include "apps/format.h"
#include "graph/memory_plan.h"

namespace kiln {

void print_graph(const Graph& g, std::ostream& out) {
    const MemoryPlan plan = plan_memory(g);
    uint64_t weights = 0, state = 0, inputs = 0;
    for (const Tensor& t : g.tensors()) {
        if (t.kind == TensorKind::Weight) weights += t.n_bytes();
        if (t.kind == TensorKind::State) state += t.n_bytes();
        if (t.kind == TensorKind::Input) inputs += t.n_bytes();
    }
    out << "graph " << g.nodes().size() << " nodes, " << g.tensors().size() << " tensors\n";
    out << "  " << pad_right("#", 6) << pad_right("op", 11) << pad_right("output", 22) << pad_right("dtype", 7)
        << pad_right("shape", 18) << "inputs\n";
    size_t i = 0;
    for (const Node& n : g.nodes()) {
        const Tensor& d = g.tensor(n.dst);
        std::string inputs_text;
        for (TensorId s : n.src) {
            if (s == kNoTensor) continue;
            if (!inputs_text.empty()) inputs_text += ", ";
            inputs_text += g.tensor(s).name;
        }
        out << "  " << pad_right(std::to_string(i++), 6) << pad_right(std::string(op_name(n.op)), 11)
            << pad_right(d.name, 22) << pad_right(std::string(dtype_name(d.type)), 7) << pad_right(shape_text(d), 18)
            << inputs_text << "\n";
    }
    out << "memory\n";
    out << "  arena (peak)      " << with_commas(plan.arena_bytes) << " bytes (" << with_commas(plan.naive_bytes)
        << " without reuse)\n";
    out << "  weights           " << with_commas(weights) << " bytes\n";
    out << "  state (KV cache)  " << with_commas(state) << " bytes\n";
    out << "  inputs            " << with_commas(inputs) << " bytes\n";
}

}  // namespace kiln
