#include "backends/reference_backend.h"

#include "graph/reference/reference.h"

namespace kiln {
namespace {

class ReferenceExecutable : public Executable {
public:
    ReferenceExecutable(const Graph& g, StateStore& state) : graph_(g), storage_(g, state) {}
    void write(TensorId t, std::span<const uint8_t> bytes) override { storage_.write(t, bytes); }
    void read(TensorId t, std::span<uint8_t> bytes) const override { storage_.read(t, bytes); }
    void run() override {
        for (const Node& n : graph_.nodes()) reference_execute(graph_, n, storage_.addresses());
    }
    uint64_t arena_bytes() const override { return storage_.arena_bytes(); }

private:
    const Graph& graph_;
    HostStorage storage_;
};

}  // namespace

std::unique_ptr<Executable> ReferenceBackend::compile(const Graph& g) {
    return std::make_unique<ReferenceExecutable>(g, state_);
}

}  // namespace kiln
