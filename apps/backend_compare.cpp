#include "apps/backend_compare.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "graph/cross_check.h"
#include "graph/op_traits.h"

namespace kiln {
namespace {

std::string sci(double v) {
    std::ostringstream s;
    s << std::scientific << std::setprecision(2) << v;
    return s.str();
}

// Nodes whose listing is skipped without --all: past the first ten, within threshold, not last.
bool listed(const NodeDiff& d, size_t n_nodes, bool all) {
    return all || d.index < 10 || d.failed() || d.index + 1 == n_nodes;
}

int print_json(const Comparison& c, const ComparisonReport& r, size_t failures, const NodeDiff* first, std::ostream& out) {
    nlohmann::json j;
    j["model"] = r.model;
    j["tokens"] = r.n_tokens;
    j["backends"] = {c.a_ran_on, c.b_ran_on};
    j["nodes"] = nlohmann::json::array();
    for (const NodeDiff& d : c.nodes) {
        nlohmann::json n = {{"index", d.index}, {"name", d.name}, {"op", d.op}, {"shape", d.shape}, {"compared", d.compared}};
        if (!d.fused_into.empty()) n["fused_into"] = d.fused_into;
        if (d.compared) {
            n["nmse"] = d.agreement.nmse;
            n["max_abs_diff"] = d.agreement.max_abs;
            n["threshold"] = d.threshold;
            n["nan_mismatch"] = d.agreement.nonfinite_at.has_value();
            n["failed"] = d.failed();
        }
        j["nodes"].push_back(n);
    }
    j["failures"] = failures;
    j["first_failure"] = first ? nlohmann::json(first->index) : nlohmann::json(nullptr);
    out << j.dump(1) << "\n";
    return failures ? 1 : 0;
}

int print_table(const Comparison& c, const ComparisonReport& r, size_t failures, const NodeDiff* first, std::ostream& out) {
    out << "compare " << c.a_ran_on << " vs " << c.b_ran_on << ": " << r.model << ", " << r.n_tokens << " tokens, "
        << c.nodes.size() << " nodes\n";
    out << std::left << std::setw(6) << "node" << std::setw(22) << "name" << std::setw(11) << "op" << std::setw(18)
        << "shape" << std::setw(11) << "nmse" << std::setw(11) << "max|diff|" << std::setw(11) << "threshold"
        << "\n";
    size_t hidden = 0;
    for (const NodeDiff& d : c.nodes) {
        if (!listed(d, c.nodes.size(), r.all)) {
            ++hidden;
            continue;
        }
        out << std::left << std::setw(6) << d.index << std::setw(22) << d.name << std::setw(11) << d.op << std::setw(18)
            << d.shape;
        if (d.compared) {
            out << std::setw(11) << sci(d.agreement.nmse) << std::setw(11) << sci(d.agreement.max_abs) << std::setw(11)
                << sci(d.threshold) << (d.agreement.nonfinite_at ? agreement_text(d.agreement, d.threshold) + " " : "")
                << (d.failed() ? "FAIL" : "");
        } else if (!d.fused_into.empty()) {
            out << "(inside fused " << d.fused_into << ", not stored)";
        } else {
            out << "(strided view, not compared)";
        }
        out << "\n";
    }
    if (hidden) out << "(" << hidden << " more nodes within threshold; --all lists them)\n";
    if (first) {
        out << failures << " nodes past their threshold; first: node " << first->index << " " << first->name << " ("
            << first->op << ")\n";
        return 1;
    }
    out << "all nodes within their thresholds\n";
    return 0;
}

}  // namespace

Comparison compare_backends(Graph& g, std::span<const GraphInput> inputs, Backend& a, Backend& b,
                            const CompareProfile& profile) {
    // Nodes inside a fused run (those another node of the run reads) are never stored: the run
    // is compared at its outputs, which either backend's run computes.
    std::vector<std::string> fused_into(g.nodes().size());
    for (const Backend* be : {&a, &b}) {
        for (const KernelRun& r : be->fused_runs(g)) {
            for (size_t k = r.first; k < r.first + r.count; ++k) {
                if (!run_stores(g, r, k)) fused_into[k] = r.kernel;
            }
        }
    }
    for (size_t i = 0; i < g.nodes().size(); ++i) {
        if (fused_into[i].empty()) g.mark_output(g.nodes()[i].dst);
    }
    auto ea = a.compile(g);
    auto eb = b.compile(g);
    for (const GraphInput& in : inputs) {
        ea->write(in.tensor, in.bytes);
        eb->write(in.tensor, in.bytes);
    }
    for (Executable* e : {ea.get(), eb.get()}) {
        if (!profile.sink) {
            e->run();
            continue;
        }
        e->set_profiling(true);  // the same work and results, timed
        const auto start = std::chrono::steady_clock::now();
        e->run();
        profile.sink({&g, profile.graph_tokens, profile.graph_tokens, start, e->node_timings(), e->transfer_timings()});
    }

    std::vector<double> error_of(g.tensors().size(), 0.0);  // per storage root: NMSE of its last write
    Comparison result{ea->backend_name(), eb->backend_name(), {}};
    std::vector<NodeDiff>& diffs = result.nodes;
    const auto nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        const Tensor& t = g.tensor(n.dst);
        NodeDiff d;
        d.index = i;
        d.name = t.name;
        d.op = std::string(op_name(n.op));
        d.shape = shape_text(t);
        double input_error = 0;
        for (TensorId s : n.src) {
            if (s != kNoTensor) input_error = std::max(input_error, error_of[static_cast<size_t>(g.storage_of(s))]);
        }
        d.threshold = propagated_nmse_threshold(n.op, input_error);
        d.fused_into = fused_into[i];
        if (!d.fused_into.empty()) {
            // Not stored: taken to be at its threshold, which its run's output then inherits.
            error_of[static_cast<size_t>(g.storage_of(n.dst))] = d.threshold;
        } else if (t.is_contiguous()) {
            std::vector<uint8_t> ba(t.n_bytes()), bb(t.n_bytes());
            ea->read(n.dst, ba);
            eb->read(n.dst, bb);
            // a is the reference: NMSE is relative to its values.
            d.agreement = compare_values(tensor_values(t, bb), tensor_values(t, ba));
            d.compared = true;
            error_of[static_cast<size_t>(g.storage_of(n.dst))] = d.agreement.nmse;
        } else {
            error_of[static_cast<size_t>(g.storage_of(n.dst))] = input_error;
        }
        diffs.push_back(std::move(d));
    }
    return result;
}

int print_comparison(const Comparison& c, const ComparisonReport& r, std::ostream& out) {
    const NodeDiff* first = nullptr;
    size_t failures = 0;
    for (const NodeDiff& d : c.nodes) {
        if (!d.failed()) continue;
        ++failures;
        if (!first) first = &d;
    }
    return r.json ? print_json(c, r, failures, first, out) : print_table(c, r, failures, first, out);
}

}  // namespace kiln
