#include "backends/reference_backend.h"

#include <chrono>
#include <vector>

#include "graph/reference/reference.h"

namespace kiln {
namespace {

class ReferenceExecutable : public Executable {
public:
    ReferenceExecutable(const Graph& g, StateStore& state) : graph_(g), storage_(g, state) {}
    void write(TensorId t, std::span<const uint8_t> bytes) override { storage_.write(t, bytes); }
    void read(TensorId t, std::span<uint8_t> bytes) const override { storage_.read(t, bytes); }
    void run() override {
        if (timings_.empty()) {
            for (const Node& n : graph_.nodes()) reference_execute(graph_, n, storage_.addresses());
            return;
        }
        const auto start = std::chrono::steady_clock::now();
        const auto since_start = [&] {
            return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
        };
        const auto nodes = graph_.nodes();
        for (size_t i = 0; i < nodes.size(); ++i) {
            timings_[i].start_ns = since_start();
            reference_execute(graph_, nodes[i], storage_.addresses());
            timings_[i].end_ns = since_start();
        }
    }
    uint64_t arena_bytes() const override { return storage_.arena_bytes(); }
    std::string backend_name() const override { return "reference"; }

    void set_profiling(bool on) override {
        timings_.assign(on ? graph_.nodes().size() : 0, {});
        for (size_t i = 0; i < timings_.size(); ++i) timings_[i] = {static_cast<uint32_t>(i), 0, 0, "reference"};
    }
    std::span<const NodeTiming> node_timings() const override { return timings_; }

private:
    std::vector<NodeTiming> timings_;  // one per node while profiling, else empty
    const Graph& graph_;
    HostStorage storage_;
};

}  // namespace

std::unique_ptr<Executable> ReferenceBackend::compile(const Graph& g) {
    return std::make_unique<ReferenceExecutable>(g, state_);
}

}  // namespace kiln
