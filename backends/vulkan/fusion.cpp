#include "backends/vulkan/fusion.h"

#include <algorithm>
#include <span>

#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct Pattern {
    std::string_view kernel;
    size_t count;
    bool (*matches)(const Graph& g, std::span<const Node> run, const DeviceInfo& info);
    void (*record)(OpRecorder& r, std::span<const Node> run);
};

// Longer patterns first: a node joins the first pattern that matches where it starts.
const Pattern kPatterns[] = {
    {"rms_norm+mul", 2,
     [](const Graph& g, std::span<const Node> run, const DeviceInfo& info) {
         return supports_rms_norm_mul(g, run[0], run[1], info);
     },
     [](OpRecorder& r, std::span<const Node> run) { record_rms_norm_mul(r, run[0], run[1]); }},
    {"matmul+add", 2,
     [](const Graph& g, std::span<const Node> run, const DeviceInfo& info) {
         return run[1].op == Op::Add && supports_matmul_epilogue(g, run[0], run[1], info);
     },
     [](OpRecorder& r, std::span<const Node> run) { record_matmul_epilogue(r, run[0], run[1]); }},
    {"matmul+swiglu", 2,
     [](const Graph& g, std::span<const Node> run, const DeviceInfo& info) {
         return run[1].op == Op::SwiGLU && supports_matmul_epilogue(g, run[0], run[1], info);
     },
     [](OpRecorder& r, std::span<const Node> run) { record_matmul_epilogue(r, run[0], run[1]); }},
    {"rope+set_rows", 2,
     [](const Graph& g, std::span<const Node> run, const DeviceInfo& info) {
         return supports_rope_set_rows(g, run[0], run[1], info);
     },
     [](OpRecorder& r, std::span<const Node> run) { record_rope_set_rows(r, run[0], run[1]); }},
};

const Pattern* pattern_of(std::string_view kernel) {
    for (const Pattern& p : kPatterns) {
        if (p.kernel == kernel) return &p;
    }
    return nullptr;
}

// Which nodes read each storage root (through any view of it).
std::vector<std::vector<size_t>> readers_by_storage(const Graph& g) {
    std::vector<std::vector<size_t>> readers(g.tensors().size());
    const auto nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        for (TensorId s : nodes[i].src) {
            if (s != kNoTensor) readers[static_cast<size_t>(g.storage_of(s))].push_back(i);
        }
    }
    return readers;
}

// Whether the outputs of nodes [first, first + count - 1) are seen only inside the run.
bool inner_outputs_private(const Graph& g, size_t first, size_t count, const std::vector<std::vector<size_t>>& readers) {
    const auto nodes = g.nodes();
    const auto outputs = g.outputs();
    for (size_t k = first; k + 1 < first + count; ++k) {
        const TensorId dst = nodes[k].dst;
        if (g.tensor(dst).kind != TensorKind::Intermediate) return false;
        const bool output = std::any_of(outputs.begin(), outputs.end(), [&](TensorId o) { return g.storage_of(o) == dst; });
        if (output) return false;
        for (size_t reader : readers[static_cast<size_t>(dst)]) {
            if (reader <= k || reader >= first + count) return false;
        }
    }
    return true;
}

}  // namespace

std::vector<FusedRun> plan_fusion(const Graph& g, const DeviceInfo& info) {
    std::vector<FusedRun> runs;
    if (!info.fuse) return runs;
    const auto nodes = g.nodes();
    const auto readers = readers_by_storage(g);
    for (size_t i = 0; i < nodes.size();) {
        const Pattern* hit = nullptr;
        for (const Pattern& p : kPatterns) {
            if (i + p.count > nodes.size()) continue;
            if (p.matches(g, nodes.subspan(i, p.count), info) && inner_outputs_private(g, i, p.count, readers)) {
                hit = &p;
                break;
            }
        }
        if (!hit) {
            ++i;
            continue;
        }
        runs.push_back({i, hit->count, hit->kernel});
        i += hit->count;
    }
    return runs;
}

void record_fused(OpRecorder& r, const FusedRun& run) {
    pattern_of(run.kernel)->record(r, r.graph().nodes().subspan(run.first, run.count));
}

}  // namespace kiln::vk
