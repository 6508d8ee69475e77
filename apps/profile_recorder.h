#pragma once
// Collects a session's profiled steps (Session::set_profile_sink) and reports them: a table of
// the slowest nodes and the time per op and per layer (profile_table.cpp), a Chrome trace and
// one JSON line per node per step (profile_files.cpp).
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/session/session.h"

namespace kiln {

class Profiler {
public:
    // What never changes between two runs of one node of one compiled graph.
    struct NodeInfo {
        std::string name, op, shape, dtype;
        int layer = kNoLayer;
        uint64_t bytes = 0;
        double flops = 0;
    };
    struct GraphInfo {
        int graph_tokens = 0;
        std::vector<NodeInfo> nodes;
        std::map<TensorId, std::string> tensor_names;  // of the tensors transferred
    };
    // Times are nanoseconds from the first profiled step's start.
    struct NodeRun {
        uint32_t step, graph, node, backend;  // backend: index in backends()
        double start_ns, end_ns;
    };
    struct TransferRun {
        uint32_t step, graph;
        TensorId tensor;
        uint64_t bytes;
        uint32_t from, to;  // indices in backends()
        double start_ns, end_ns;
    };

    // The sink to give Session::set_profile_sink; the profiler must outlive its use.
    ProfileSink sink();
    void add(const StepProfile& step);
    // The session whose graphs were seen is going away: later graphs are new ones even at the
    // same addresses.
    void forget_graphs() { graph_index_.clear(); }

    uint32_t steps() const { return steps_; }
    const std::vector<GraphInfo>& graphs() const { return graphs_; }
    const std::vector<std::string>& backends() const { return backends_; }
    const std::vector<NodeRun>& node_runs() const { return node_runs_; }
    const std::vector<TransferRun>& transfer_runs() const { return transfer_runs_; }

    // The CPU's measured read bandwidth (memory_bandwidth.h) for `threads` threads: the table
    // then says what share of it the CPU's matmuls reached.
    void set_read_bandwidth(double gbs, int threads) { read_bandwidth_ = {gbs, threads}; }

    // The report printed at the end of a run: the `top` slowest nodes, then per op and per layer;
    // of one step only when `only_step` is given (kiln compare: one step per backend).
    void print_table(std::ostream& out, size_t top = 25, std::optional<uint32_t> only_step = std::nullopt) const;
    // Written atomically (FILE.partial, then renamed); throws kiln::Error naming the file.
    void write_chrome_trace(const std::string& path) const;
    void write_jsonl(const std::string& path) const;

private:
    uint32_t graph_of(const StepProfile& step);
    uint32_t backend_index(std::string_view name);

    std::map<const Graph*, uint32_t> graph_index_;
    std::vector<GraphInfo> graphs_;
    std::vector<std::string> backends_;
    std::vector<NodeRun> node_runs_;
    std::vector<TransferRun> transfer_runs_;
    uint32_t steps_ = 0;
    std::chrono::steady_clock::time_point first_start_;
    std::optional<std::pair<double, int>> read_bandwidth_;  // GB/s, threads
};

}  // namespace kiln
