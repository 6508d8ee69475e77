#pragma once
// The CPU backend: SIMD kernels chosen once by CPU features, a thread pool that splits each
// node, intermediates packed into one arena by the memory planner, weights used in place from
// the model's mmap, and state (the KV cache) shared by name across the graphs it compiles.
#include <memory>
#include <optional>

#include "backends/backend.h"
#include "backends/host_storage.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/thread_pool.h"

namespace kiln {

struct CpuOptions {
    int threads = 0;                   // 0: the number of physical cores
    std::optional<CpuIsa> isa;         // default: the best this CPU supports
};

class CpuBackend : public Backend {
public:
    explicit CpuBackend(const CpuOptions& options = {});
    ~CpuBackend() override;

    std::string_view name() const override { return "cpu"; }
    bool supports(const Graph& g, const Node& n) const override;
    std::unique_ptr<Executable> compile(const Graph& g) override;
    void release_state(std::string_view prefix) override { state_.release(prefix); }

    CpuIsa isa() const { return isa_; }
    int threads() const { return pool_->size(); }

private:
    CpuIsa isa_;
    std::unique_ptr<ThreadPool> pool_;
    StateStore state_;
};

}  // namespace kiln
