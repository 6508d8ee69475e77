#include "backends/cpu/cpu_backend.h"

#include <cstring>

#include "backends/cpu/kernels.h"
#include "graph/error.h"

namespace kiln {
namespace {

class CpuExecutable : public Executable {
public:
    CpuExecutable(StateStore& state, ThreadPool& pool, const CpuKernelTable& kernels, const Graph& g)
        : graph_(g), pool_(pool), kernels_(kernels), storage_(g, state), barrier_(pool.size()) {
        size_t scratch = 0;
        for (const Node& n : graph_.nodes()) scratch = std::max(scratch, cpu_scratch_bytes(graph_, n, pool_.size()));
        scratch_ = std::make_unique<AlignedBytes>(scratch);
    }

    void write(TensorId t, std::span<const uint8_t> bytes) override { storage_.write(t, bytes); }
    void read(TensorId t, std::span<uint8_t> bytes) const override { storage_.read(t, bytes); }

    void run() override { pool_.run(&CpuExecutable::worker, this); }

    uint64_t arena_bytes() const override { return storage_.arena_bytes(); }

private:
    static void worker(void* self, int ith) {
        auto* e = static_cast<CpuExecutable*>(self);
        CpuKernelArgs args{&e->graph_, nullptr, e->storage_.addresses(), ith, e->pool_.size(), e->scratch_->data(),
                           &e->barrier_};
        for (const Node& n : e->graph_.nodes()) {
            args.node = &n;
            e->kernels_.op[static_cast<int>(n.op)](args);
            e->barrier_.wait();
        }
    }

    const Graph& graph_;
    ThreadPool& pool_;
    const CpuKernelTable& kernels_;
    HostStorage storage_;
    std::unique_ptr<AlignedBytes> scratch_;
    Barrier barrier_;
};

}  // namespace

CpuBackend::CpuBackend(const CpuOptions& options) {
    isa_ = options.isa.value_or(detect_cpu_isa());
    if (!cpu_supports_isa(isa_)) {
        throw Error("cpu: this CPU cannot run the " + std::string(isa_name(isa_)) + " kernels");
    }
    const int threads = options.threads > 0 ? options.threads : physical_core_count();
    pool_ = std::make_unique<ThreadPool>(threads);
}

CpuBackend::~CpuBackend() = default;

bool CpuBackend::supports(const Graph& g, const Node& n) const { return cpu_supports(g, n); }

std::unique_ptr<Executable> CpuBackend::compile(const Graph& g) {
    for (const Node& n : g.nodes()) {
        if (!supports(g, n)) {
            throw Error("cpu: node " + g.tensor(n.dst).name + " (" + std::string(op_name(n.op)) + ") is not supported");
        }
    }
    return std::make_unique<CpuExecutable>(state_, *pool_, cpu_kernel_table(isa_), g);
}

}  // namespace kiln
