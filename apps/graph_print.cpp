#include "apps/graph_print.h"

#include <algorithm>
#include <ostream>

#include "apps/format.h"
#include "graph/memory_plan.h"
#include "graph/memory_use.h"

namespace kiln {

void print_graph(const Graph& g, const GraphPlacement& placement, std::ostream& out) {
    const bool several = placement.names.size() > 1;
    out << "graph " << g.nodes().size() << " nodes, " << g.tensors().size() << " tensors\n";
    out << "  " << pad_right("#", 6) << pad_right("op", 11) << pad_right("output", 22) << pad_right("dtype", 7)
        << pad_right("shape", 18) << (several ? pad_right("backend", 9) : "") << "inputs\n";
    size_t i = 0;
    for (const Node& n : g.nodes()) {
        const Tensor& d = g.tensor(n.dst);
        std::string inputs_text;
        for (TensorId s : n.src) {
            if (s == kNoTensor) continue;
            if (!inputs_text.empty()) inputs_text += ", ";
            inputs_text += g.tensor(s).name;
        }
        const std::string backend =
            several ? pad_right(placement.names[static_cast<size_t>(placement.backend_of_node[i])], 9) : "";
        out << "  " << pad_right(std::to_string(i++), 6) << pad_right(std::string(op_name(n.op)), 11)
            << pad_right(d.name, 22) << pad_right(std::string(dtype_name(d.type)), 7) << pad_right(shape_text(d), 18)
            << backend << inputs_text << "\n";
    }

    if (!placement.fused.empty()) {
        out << "fused kernels: " << placement.fused.size() << " (nodes " << g.nodes().size() << " -> kernels ";
        size_t kernels = g.nodes().size();
        for (const KernelRun& r : placement.fused) kernels -= r.count - 1;
        out << kernels << ")\n";
        size_t width = 0;
        for (const KernelRun& r : placement.fused) width = std::max(width, r.kernel.size());
        for (const KernelRun& r : placement.fused) {
            out << "  " << pad_right(r.kernel, width + 2) << "nodes " << r.first << "-" << r.first + r.count - 1 << "\n";
        }
    }

    // Memory per backend, from the segments each backend would compile.
    const std::vector<BackendMemoryUse> memory = memory_use(g, placement.backend_of_node, placement.names.size());
    const MemoryPlan whole = plan_memory(g);
    out << "memory" << (several ? " per backend" : "") << "\n";
    for (size_t b = 0; b < memory.size(); ++b) {
        const BackendMemoryUse& m = memory[b];
        if (several && m.nodes == 0) continue;
        const std::string indent = several ? "    " : "  ";
        if (several) out << "  " << placement.names[b] << ": " << m.nodes << " nodes\n";
        out << indent << pad_right("arena (peak)", 18) << with_commas(m.arena) << " bytes";
        if (!several) out << " (" << with_commas(whole.naive_bytes) << " without reuse)";
        out << "\n";
        out << indent << pad_right("weights", 18) << with_commas(m.weights) << " bytes\n";
        out << indent << pad_right("state (KV cache)", 18) << with_commas(m.state) << " bytes\n";
        out << indent << pad_right("inputs", 18) << with_commas(m.inputs - m.imported) << " bytes\n";
        if (m.imported) out << indent << pad_right("copied in", 18) << with_commas(m.imported) << " bytes per step\n";
    }
}

}  // namespace kiln
