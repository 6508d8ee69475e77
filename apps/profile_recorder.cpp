#include "apps/profile_recorder.h"

#include "graph/op_traits.h"

namespace kiln {

ProfileSink Profiler::sink() {
    return [this](const StepProfile& step) { add(step); };
}

uint32_t Profiler::graph_of(const StepProfile& step) {
    if (auto it = graph_index_.find(step.graph); it != graph_index_.end()) return it->second;
    const Graph& g = *step.graph;
    GraphInfo info;
    info.graph_tokens = step.graph_tokens;
    for (const Node& n : g.nodes()) {
        const Tensor& dst = g.tensor(n.dst);
        const NodeCost cost = node_cost(g, n);
        info.nodes.push_back({dst.name, std::string(op_name(n.op)), shape_text(dst), std::string(dtype_name(dst.type)),
                              n.layer, cost.bytes, cost.flops});
    }
    graphs_.push_back(std::move(info));
    const auto index = static_cast<uint32_t>(graphs_.size() - 1);
    graph_index_[step.graph] = index;
    return index;
}

uint32_t Profiler::backend_index(std::string_view name) {
    for (size_t i = 0; i < backends_.size(); ++i) {
        if (backends_[i] == name) return static_cast<uint32_t>(i);
    }
    backends_.emplace_back(name);
    return static_cast<uint32_t>(backends_.size() - 1);
}

void Profiler::add(const StepProfile& step) {
    if (steps_ == 0) first_start_ = step.start;
    const double offset = std::chrono::duration<double, std::nano>(step.start - first_start_).count();
    const uint32_t graph = graph_of(step);
    GraphInfo& info = graphs_[graph];
    for (const NodeTiming& t : step.nodes) {
        node_runs_.push_back({steps_, graph, t.node, backend_index(t.backend), offset + t.start_ns, offset + t.end_ns});
    }
    for (const TransferTiming& t : step.transfers) {
        if (!info.tensor_names.count(t.tensor)) info.tensor_names[t.tensor] = step.graph->tensor(t.tensor).name;
        transfer_runs_.push_back({steps_, graph, t.tensor, t.bytes, backend_index(t.from), backend_index(t.to),
                                  offset + t.start_ns, offset + t.end_ns});
    }
    ++steps_;
}

}  // namespace kiln
