// The profile's text report: the slowest nodes, then time per op and per layer, with the work
// model's GB/s and GFLOP/s. Times are summed over every profiled step.
#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

#include "apps/format.h"
#include "graph/op_traits.h"
#include "apps/profile_recorder.h"

namespace kiln {
namespace {

struct Total {
    uint64_t runs = 0;
    double ns = 0, bytes = 0, flops = 0;

    void add(double dur_ns, double b, double f) {
        ++runs;
        ns += dur_ns;
        bytes += b;
        flops += f;
    }
};

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// "runs  total ms  %  avg us  GB/s  GFLOP/s" of one row; bytes per ns is GB/s.
std::string numbers(const Total& t, double all_ns) {
    const double ns = std::max(t.ns, 1e-9);
    return pad_right(std::to_string(t.runs), 7) + pad_right(fmt("%.3f", t.ns / 1e6), 10) +
           pad_right(fmt("%.1f", all_ns > 0 ? 100.0 * t.ns / all_ns : 0), 7) +
           pad_right(fmt("%.2f", t.ns / 1e3 / static_cast<double>(std::max<uint64_t>(t.runs, 1))), 10) +
           pad_right(fmt("%.2f", t.bytes / ns), 9) + fmt("%.2f", t.flops / ns);
}

const char* const kNumbersHeader = "runs   total ms  %      avg us    GB/s     GFLOP/s";

}  // namespace

void Profiler::print_table(std::ostream& out, size_t top, std::optional<uint32_t> only_step) const {
    const auto shown_step = [&](uint32_t step) { return !only_step || step == *only_step; };
    std::map<std::pair<uint32_t, uint32_t>, std::pair<Total, uint32_t>> per_node;  // -> (total, backend)
    std::map<std::string, Total> per_op;
    std::map<int, Total> per_layer;
    double all_ns = 0;
    size_t node_runs = 0;
    for (const NodeRun& r : node_runs_) {
        if (!shown_step(r.step)) continue;
        ++node_runs;
        const NodeInfo& n = graphs_[r.graph].nodes[r.node];
        const double dur = r.end_ns - r.start_ns;
        auto& [total, backend] = per_node[{r.graph, r.node}];
        total.add(dur, static_cast<double>(n.bytes), n.flops);
        backend = r.backend;
        per_op[n.op].add(dur, static_cast<double>(n.bytes), n.flops);
        per_layer[n.layer].add(dur, static_cast<double>(n.bytes), n.flops);
        all_ns += dur;
    }

    out << "profile: " << (only_step ? 1 : steps_) << " steps, " << with_commas(node_runs) << " node runs, "
        << fmt("%.3f", all_ns / 1e6) << " ms of node time; graphs:";
    for (const GraphInfo& g : graphs_) out << " " << g.graph_tokens << "-token (" << g.nodes.size() << " nodes)";
    out << "\ncounted as: " << kCostModel << "\n";

    std::vector<std::pair<std::pair<uint32_t, uint32_t>, std::pair<Total, uint32_t>>> nodes(per_node.begin(),
                                                                                              per_node.end());
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.second.first.ns > b.second.first.ns; });
    const size_t shown = std::min(top, nodes.size());
    out << "\nslowest nodes (" << shown << " of " << nodes.size() << ", by total time):\n"
        << pad_right("graph", 7) << pad_right("node", 6) << pad_right("name", 22) << pad_right("op", 11)
        << pad_right("backend", 10) << pad_right("shape", 16) << pad_right("dtype", 7) << kNumbersHeader << "\n";
    for (size_t i = 0; i < shown; ++i) {
        const auto& [key, value] = nodes[i];
        const NodeInfo& n = graphs_[key.first].nodes[key.second];
        out << pad_right(std::to_string(graphs_[key.first].graph_tokens) + "t", 7) << pad_right(std::to_string(key.second), 6)
            << pad_right(n.name, 22) << pad_right(n.op, 11) << pad_right(backends_[value.second], 10)
            << pad_right(n.shape, 16) << pad_right(n.dtype, 7) << numbers(value.first, all_ns) << "\n";
    }

    std::vector<std::pair<std::string, Total>> ops(per_op.begin(), per_op.end());
    std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
    out << "\nper op:\n" << pad_right("op", 12) << kNumbersHeader << "\n";
    for (const auto& [op, t] : ops) out << pad_right(op, 12) << numbers(t, all_ns) << "\n";

    if (read_bandwidth_) {
        // Weights dominate a matmul's bytes, so against the bandwidth this is how close the
        // kernels come to what memory allows (decode: every weight once per token).
        Total cpu_matmul;
        for (const NodeRun& r : node_runs_) {
            const NodeInfo& n = graphs_[r.graph].nodes[r.node];
            if (shown_step(r.step) && n.op == "matmul" && backends_[r.backend] == "cpu") {
                cpu_matmul.add(r.end_ns - r.start_ns, static_cast<double>(n.bytes), n.flops);
            }
        }
        if (cpu_matmul.runs) {
            const double gbs = cpu_matmul.bytes / std::max(cpu_matmul.ns, 1e-9);
            out << "cpu matmuls: " << fmt("%.2f", gbs) << " GB/s, " << fmt("%.0f", 100.0 * gbs / read_bandwidth_->first)
                << "% of the measured read bandwidth (" << fmt("%.1f", read_bandwidth_->first) << " GB/s with "
                << read_bandwidth_->second << (read_bandwidth_->second == 1 ? " thread" : " threads")
                << ", as kiln devices measures it)\n";
        }
    }

    out << "\nper layer:\n" << pad_right("layer", 12) << kNumbersHeader << "\n";
    for (const auto& [layer, t] : per_layer) {
        out << pad_right(layer == kNoLayer ? "outside" : std::to_string(layer), 12) << numbers(t, all_ns) << "\n";
    }

    Total t;
    for (const TransferRun& r : transfer_runs_) {
        if (shown_step(r.step)) t.add(r.end_ns - r.start_ns, static_cast<double>(r.bytes), 0);
    }
    if (t.runs) {
        out << "\ntransfers between backends: " << t.runs << " copies, " << with_commas(static_cast<uint64_t>(t.bytes))
            << " bytes, " << fmt("%.3f", t.ns / 1e6) << " ms, " << fmt("%.2f", t.bytes / std::max(t.ns, 1e-9)) << " GB/s\n";
    }
}

}  // namespace kiln
