#include "backends/placed_backend.h"

#include <algorithm>

#include "graph/error.h"

namespace kiln {
namespace {

struct ImportSource {
    size_t segment;  // producing segment
    TensorId local;  // the tensor's id there
};

class PlacedExecutable : public Executable {
public:
    PlacedExecutable(std::vector<Segment> segments, const std::vector<Backend*>& backends)
        : segments_(std::move(segments)) {
        for (const Segment& s : segments_) exes_.push_back(backends[static_cast<size_t>(s.backend)]->compile(s.graph));
        for (size_t i = 0; i < segments_.size(); ++i) {
            for (const Transfer& imp : segments_[i].imports) {
                const ImportSource src = producer_of(i, imp.global);
                const Tensor& t = segments_[i].graph.tensor(imp.local);
                transfers_.push_back({i, imp.local, src, std::vector<uint8_t>(t.n_bytes())});
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

    uint64_t arena_bytes() const override {
        uint64_t total = 0;
        for (const auto& e : exes_) total += e->arena_bytes();
        return total;
    }

private:
    struct Move {
        size_t segment;  // importing segment
        TensorId local;  // its Input
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

    std::vector<Segment> segments_;
    std::vector<std::unique_ptr<Executable>> exes_;
    std::vector<Move> transfers_;  // in segment order
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

std::vector<int> PlacedBackend::placement(const Graph& g) const {
    return place_graph(g, policy_, [&](const Node& n) { return device_->supports(g, n); });
}

std::unique_ptr<Executable> PlacedBackend::compile(const Graph& g) {
    const std::vector<int> where = placement(g);
    const bool one = std::all_of(where.begin(), where.end(), [&](int b) { return b == where.front(); });
    if (where.empty() || one) return (where.empty() || where.front() == kHostBackend ? *host_ : *device_).compile(g);
    return std::make_unique<PlacedExecutable>(split_graph(g, where), std::vector<Backend*>{device_.get(), host_.get()});
}

void PlacedBackend::release_state(std::string_view prefix) {
    device_->release_state(prefix);
    host_->release_state(prefix);
}

}  // namespace kiln
