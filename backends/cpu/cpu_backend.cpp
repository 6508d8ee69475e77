#include "backends/cpu/cpu_backend.h"

#include <chrono>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels.h"
#include "graph/error.h"

namespace kiln {
namespace {

class CpuExecutable : public Executable {
public:
    CpuExecutable(StateStore& state, ThreadPool& pool, CpuIsa isa, const Graph& g)
        : graph_(g), pool_(pool), kernels_(cpu_kernel_table(isa)), storage_(g, state), barrier_(pool.size()),
          staged_x_reuse_(cpu_plan_staged_x_reuse(g, isa)) {
        const CpuScratchLayout layout = cpu_scratch_layout(graph_, pool_.size(), isa);
        scratch_ = std::make_unique<AlignedBytes>(layout.bytes);
        staged_x_offset_ = layout.staged_x_offset;
    }

    void write(TensorId t, std::span<const uint8_t> bytes) override { storage_.write(t, bytes); }
    void read(TensorId t, std::span<uint8_t> bytes) const override { storage_.read(t, bytes); }

    void run() override {
        if (!profiling_) return pool_.run(&CpuExecutable::worker<false>, this);
        run_start_ = std::chrono::steady_clock::now();
        pool_.run(&CpuExecutable::worker<true>, this);
    }

    uint64_t arena_bytes() const override { return storage_.arena_bytes(); }
    std::string backend_name() const override { return "cpu"; }

    void set_profiling(bool on) override {
        profiling_ = on;
        timings_.assign(on ? graph_.nodes().size() : 0, {});
        for (size_t i = 0; i < timings_.size(); ++i) timings_[i] = {static_cast<uint32_t>(i), 0, 0, "cpu"};
    }
    std::span<const NodeTiming> node_timings() const override { return timings_; }

private:
    // `timed` is a template argument so that the unprofiled loop has no clock code at all.
    template <bool timed>
    static void worker(void* self, int ith) {
        auto* e = static_cast<CpuExecutable*>(self);
        CpuKernelArgs args{&e->graph_, nullptr, e->storage_.addresses(), ith, e->pool_.size(), e->scratch_->data(),
                           &e->barrier_, e->scratch_->data() + e->staged_x_offset_, false};
        const auto nodes = e->graph_.nodes();
        double previous_end = 0;
        for (size_t i = 0; i < nodes.size(); ++i) {
            args.node = &nodes[i];
            args.staged_x_ready = e->staged_x_reuse_[i];
            e->kernels_.op[static_cast<int>(nodes[i].op)](args);
            e->barrier_.wait();
            // After the barrier every thread has finished node i; only thread 0 reads the clock,
            // so the other threads go straight on to node i + 1 as they would unprofiled.
            if constexpr (timed) {
                if (ith == 0) {
                    const double now = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() -
                                                                                e->run_start_).count();
                    e->timings_[i].start_ns = previous_end;
                    e->timings_[i].end_ns = now;
                    previous_end = now;
                }
            }
        }
    }

    const Graph& graph_;
    ThreadPool& pool_;
    const CpuKernelTable& kernels_;
    HostStorage storage_;
    std::unique_ptr<AlignedBytes> scratch_;
    Barrier barrier_;
    std::vector<bool> staged_x_reuse_;  // per node (cpu_plan_staged_x_reuse)
    size_t staged_x_offset_ = 0;
    bool profiling_ = false;
    std::chrono::steady_clock::time_point run_start_;
    std::vector<NodeTiming> timings_;
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
    return std::make_unique<CpuExecutable>(state_, *pool_, isa_, g);
}

}  // namespace kiln
