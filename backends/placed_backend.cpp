#include "backends/placed_backend.h"

#include <algorithm>
#include <chrono>

#include "graph/error.h"

namespace kiln {
namespace {

struct ImportSource {
    size_t segment;  // producing segment
    TensorId local;  // the tensor's id there
};

// Per segment, the index in `g` of each of its nodes. Segments hold consecutive runs of g's
// nodes in order; each match is checked through the segment's local id of the node's output.
std::vector<std::vector<uint32_t>> original_nodes(const Graph& g, const std::vector<Segment>& segments) {
    const auto all = g.nodes();
    std::vector<std::vector<uint32_t>> out;
    size_t next = 0;
    for (const Segment& s : segments) {
        auto& nodes = out.emplace_back();
        for (const Node& n : s.graph.nodes()) {
            if (next == all.size() || all[next].op != n.op || s.local_of[static_cast<size_t>(all[next].dst)] != n.dst) {
                throw Error("placed graph: segment node " + s.graph.tensor(n.dst).name + " is not the next node of the graph");
            }
            nodes.push_back(static_cast<uint32_t>(next++));
        }
    }
    return out;
}

double ns_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::nano>(b - a).count();
}

class PlacedExecutable : public Executable {
public:
    PlacedExecutable(const Graph& g, std::vector<Segment> segments, const std::vector<Backend*>& backends)
        : segments_(std::move(segments)), original_node_(original_nodes(g, segments_)) {
        for (const Segment& s : segments_) {
            Backend& b = *backends[static_cast<size_t>(s.backend)];
            exes_.push_back(b.compile(s.graph));
            names_.push_back(b.name());
        }
        for (size_t i = 0; i < segments_.size(); ++i) {
            for (const Transfer& imp : segments_[i].imports) {
                const ImportSource src = producer_of(i, imp.global);
                const Tensor& t = segments_[i].graph.tensor(imp.local);
                transfers_.push_back({i, imp.local, imp.global, src, std::vector<uint8_t>(t.n_bytes())});
                ++copies_.host_copies;
                copies_.host_copy_bytes += t.n_bytes();
            }
        }
    }

    void write(TensorId t, std::span<const uint8_t> bytes) override {
        bool written = false;
        for (size_t i = 0; i < segments_.size(); ++i) {
            const TensorId local = segments_[i].local_of[static_cast<size_t>(t)];
            if (local == kNoTensor || is_import(i, t)) continue;
            exes_[i]->write(local, bytes);
            written = true;
            // State lives in one backend's store, shared by its segments: write it once.
            if (segments_[i].graph.tensor(local).kind == TensorKind::State) break;
        }
        if (!written) throw Error("placed graph: tensor " + std::to_string(t) + " is in no segment");
    }

    void read(TensorId t, std::span<uint8_t> bytes) const override {
        for (size_t i = segments_.size(); i-- > 0;) {
            const TensorId local = segments_[i].local_of[static_cast<size_t>(t)];
            if (local != kNoTensor) return exes_[i]->read(local, bytes);
        }
        throw Error("placed graph: tensor " + std::to_string(t) + " is in no segment");
    }

    void run() override {
        if (profiling_) return run_profiled();
        size_t next = 0;
        for (size_t i = 0; i < segments_.size(); ++i) {
            for (; next < transfers_.size() && transfers_[next].segment == i; ++next) {
                Move& m = transfers_[next];
                exes_[m.from.segment]->read(m.from.local, m.bytes);
                exes_[i]->write(m.local, m.bytes);
            }
            exes_[i]->run();
        }
    }

    void set_profiling(bool on) override {
        for (auto& e : exes_) e->set_profiling(on);
        profiling_ = on;
        node_timings_.clear();
        transfer_timings_.clear();
    }
    std::span<const NodeTiming> node_timings() const override { return node_timings_; }
    std::span<const TransferTiming> transfer_timings() const override { return transfer_timings_; }

    // The segments' counts (each covers its run and the reads that fed later segments) plus the
    // host copies; nullopt when no segment runs on a device that counts.
    std::optional<RunCounts> run_counts() const override {
        std::optional<RunCounts> total;
        for (const auto& e : exes_) {
            const auto c = e->run_counts();
            if (!c) continue;
            if (!total) total.emplace();
            *total += *c;
        }
        if (total) *total += copies_;
        return total;
    }

    uint64_t arena_bytes() const override {
        uint64_t total = 0;
        for (const auto& e : exes_) total += e->arena_bytes();
        return total;
    }

    std::string backend_name() const override {
        std::vector<std::string> names;  // each backend once, in the order its segments first run
        for (const auto& e : exes_) {
            std::string name = e->backend_name();
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
        }
        std::string out;
        for (const std::string& n : names) out += (out.empty() ? "" : "+") + n;
        return out;
    }

private:
    struct Move {
        size_t segment;   // importing segment
        TensorId local;   // its Input
        TensorId global;  // the tensor in the whole graph
        ImportSource from;
        std::vector<uint8_t> bytes;  // allocated once: no allocation per step
    };

    bool is_import(size_t i, TensorId t) const {
        return std::any_of(segments_[i].imports.begin(), segments_[i].imports.end(),
                           [t](const Transfer& x) { return x.global == t; });
    }

    ImportSource producer_of(size_t importer, TensorId global) const {
        for (size_t j = importer; j-- > 0;) {
            for (const Transfer& e : segments_[j].exports) {
                if (e.global == global) return {j, e.local};
            }
        }
        throw Error("placed graph: no segment exports tensor " + std::to_string(global));
    }

    // The same steps as run(), with the host clock around each copy and each segment: a
    // segment's own node times (from its start) are shifted by when that segment started.
    void run_profiled() {
        using clock = std::chrono::steady_clock;
        node_timings_.clear();
        transfer_timings_.clear();
        const auto start = clock::now();
        size_t next = 0;
        for (size_t i = 0; i < segments_.size(); ++i) {
            for (; next < transfers_.size() && transfers_[next].segment == i; ++next) {
                Move& m = transfers_[next];
                const auto t0 = clock::now();
                exes_[m.from.segment]->read(m.from.local, m.bytes);
                exes_[i]->write(m.local, m.bytes);
                transfer_timings_.push_back({m.global, m.bytes.size(), ns_between(start, t0), ns_between(start, clock::now()),
                                             names_[m.from.segment], names_[i]});
            }
            const double offset = ns_between(start, clock::now());
            exes_[i]->run();
            for (const NodeTiming& t : exes_[i]->node_timings()) {
                node_timings_.push_back({original_node_[i][t.node], offset + t.start_ns, offset + t.end_ns, t.backend});
            }
        }
    }

    std::vector<Segment> segments_;
    std::vector<std::vector<uint32_t>> original_node_;  // per segment: its node k is node [k] of the whole graph
    std::vector<std::unique_ptr<Executable>> exes_;
    std::vector<std::string_view> names_;  // per segment: its backend's name
    std::vector<Move> transfers_;          // in segment order
    RunCounts copies_;                     // host_copies and host_copy_bytes of every run
    bool profiling_ = false;
    std::vector<NodeTiming> node_timings_;  // capacity kept across runs: no allocation per step after the first
    std::vector<TransferTiming> transfer_timings_;
};

}  // namespace

PlacedBackend::PlacedBackend(std::unique_ptr<Backend> device, std::unique_ptr<Backend> host, PlacementPolicy policy)
    : device_(std::move(device)), host_(std::move(host)), policy_(policy) {
    name_ = std::string(device_->name()) + "+" + std::string(host_->name());
}

PlacedBackend::~PlacedBackend() = default;

bool PlacedBackend::supports(const Graph& g, const Node& n) const {
    return device_->supports(g, n) || host_->supports(g, n);
}

std::vector<KernelRun> PlacedBackend::fused_runs(const Graph& g) const {
    const std::vector<int> where = placement(g);
    if (where.empty() || !std::all_of(where.begin(), where.end(), [&](int b) { return b == where.front(); })) return {};
    return (where.front() == kHostBackend ? *host_ : *device_).fused_runs(g);
}

std::vector<int> PlacedBackend::placement(const Graph& g) const {
    return place_graph(g, policy_, [&](const Node& n) { return device_->supports(g, n); });
}

std::unique_ptr<Executable> PlacedBackend::compile(const Graph& g) {
    const std::vector<int> where = placement(g);
    const bool one = std::all_of(where.begin(), where.end(), [&](int b) { return b == where.front(); });
    if (where.empty() || one) return (where.empty() || where.front() == kHostBackend ? *host_ : *device_).compile(g);
    return std::make_unique<PlacedExecutable>(g, split_graph(g, where), std::vector<Backend*>{device_.get(), host_.get()});
}

void PlacedBackend::release_state(std::string_view prefix) {
    device_->release_state(prefix);
    host_->release_state(prefix);
}

NodeBackends node_backends(const Backend& backend, const Graph& g) {
    if (const auto* placed = dynamic_cast<const PlacedBackend*>(&backend)) {
        static_assert(kDeviceBackend == 0 && kHostBackend == 1);
        return {{&placed->device(), &placed->host()}, placed->placement(g)};
    }
    return {{&backend}, std::vector<int>(g.nodes().size(), 0)};
}

}  // namespace kiln
