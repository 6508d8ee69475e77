#pragma once
// Runs graphs with the scalar reference kernels of graph/reference, one thread: the third
// voice when the CPU and Vulkan backends are cross-checked, and the ground truth for a whole
// model (`kiln compare`, tests). Slow by design.
#include "backends/backend.h"
#include "backends/host_storage.h"

namespace kiln {

class ReferenceBackend : public Backend {
public:
    std::string_view name() const override { return "reference"; }
    bool supports(const Graph&, const Node&) const override { return true; }
    std::unique_ptr<Executable> compile(const Graph& g) override;
    void release_state(std::string_view prefix) override { state_.release(prefix); }

private:
    StateStore state_;
};

}  // namespace kiln
