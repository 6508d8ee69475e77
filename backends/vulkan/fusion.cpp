#include "backends/vulkan/fusion.h"

#include <algorithm>
#include <span>

#include "backends/backend.h"

namespace kiln::vk {
namespace {

// What a pattern's matcher sees at a node: the graph from there on, and whether a run of n nodes
// starting there may fuse (its inner outputs private).
struct Site {
    const Graph& g;
    std::span<const Node> nodes;  // from the run's first node to the graph's end
    const DeviceInfo& info;
    const WeightsTogether& together;
    std::function<bool(size_t)> accept;
};

struct Pattern {
    // The length of the run starting at the site (0: none); the longest the pattern allows.
    size_t (*match)(const Site& s);
    void (*record)(OpRecorder& r, std::span<const Node> run);
};

template <bool (*Supports)(const Graph&, const Node&, const Node&, const DeviceInfo&)>
size_t two(const Site& s) {
    return s.nodes.size() >= 2 && Supports(s.g, s.nodes[0], s.nodes[1], s.info) && s.accept(2) ? 2 : 0;
}

bool matmul_then_add(const Graph& g, const Node& mm, const Node& next, const DeviceInfo& info) {
    return next.op == Op::Add && supports_matmul_epilogue(g, mm, next, info);
}
bool matmul_then_swiglu(const Graph& g, const Node& mm, const Node& next, const DeviceInfo& info) {
    return next.op == Op::SwiGLU && supports_matmul_epilogue(g, mm, next, info);
}

// Tried in order at each node; the first that matches takes the run. Projections (with their
// norm) come before the norm alone, which they contain.
const Pattern kPatterns[] = {
    {[](const Site& s) { return match_projections(s.g, s.nodes, s.info, s.together, s.accept); }, record_projections},
    {two<supports_rms_norm_mul>, [](OpRecorder& r, std::span<const Node> run) { record_rms_norm_mul(r, run[0], run[1]); }},
    {two<matmul_then_add>, [](OpRecorder& r, std::span<const Node> run) { record_matmul_epilogue(r, run[0], run[1]); }},
    {two<matmul_then_swiglu>, [](OpRecorder& r, std::span<const Node> run) { record_matmul_epilogue(r, run[0], run[1]); }},
    {[](const Site& s) { return supports_rope_qkv(s.g, s.nodes, s.info) && s.accept(4) ? size_t{4} : 0; },
     record_rope_qkv},
    {two<supports_rope_set_rows>, [](OpRecorder& r, std::span<const Node> run) { record_rope_set_rows(r, run[0], run[1]); }},
};

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

// Whether the inner outputs of nodes [first, first + count) (those a later node of the run
// reads) are seen only inside the run.
bool inner_outputs_private(const Graph& g, size_t first, size_t count, const std::vector<std::vector<size_t>>& readers) {
    const auto nodes = g.nodes();
    const auto outputs = g.outputs();
    const size_t end = first + count;
    for (size_t k = first; k < end; ++k) {
        const TensorId dst = nodes[k].dst;
        const auto& rs = readers[static_cast<size_t>(g.storage_of(dst))];
        const bool read_inside = std::any_of(rs.begin(), rs.end(), [&](size_t r) { return r > k && r < end; });
        if (!read_inside) continue;
        if (g.tensor(dst).kind != TensorKind::Intermediate) return false;
        const bool output = std::any_of(outputs.begin(), outputs.end(), [&](TensorId o) { return g.storage_of(o) == dst; });
        if (output) return false;
        if (std::any_of(rs.begin(), rs.end(), [&](size_t r) { return r <= k || r >= end; })) return false;
    }
    return true;
}

// "rms_norm+mul+matmul*3": the run's ops, repeats counted.
std::string kernel_name(std::span<const Node> run) {
    std::string name;
    for (size_t i = 0; i < run.size();) {
        size_t same = 1;
        while (i + same < run.size() && run[i + same].op == run[i].op) ++same;
        if (!name.empty()) name += "+";
        name += op_name(run[i].op);
        if (same > 1) name += "*" + std::to_string(same);
        i += same;
    }
    return name;
}

}  // namespace

std::vector<FusedRun> plan_fusion(const Graph& g, const DeviceInfo& info, const WeightsTogether& together) {
    std::vector<FusedRun> runs;
    if (!info.fuse) return runs;
    const auto nodes = g.nodes();
    const auto readers = readers_by_storage(g);
    for (size_t i = 0; i < nodes.size();) {
        const Site site{g, nodes.subspan(i), info, together,
                        [&](size_t count) { return inner_outputs_private(g, i, count, readers); }};
        size_t count = 0, pattern = 0;
        for (; pattern < std::size(kPatterns) && count == 0; ++pattern) count = kPatterns[pattern].match(site);
        if (count == 0) {
            ++i;
            continue;
        }
        FusedRun run{i, count, kernel_name(nodes.subspan(i, count)), pattern - 1, {}};
        // Projections read their weights through one binding.
        for (size_t k = i; k < i + count; ++k) {
            if (nodes[k].op == Op::MatMul) run.weights_together.push_back(nodes[k].src[0]);
        }
        if (run.weights_together.size() < 2) run.weights_together.clear();
        runs.push_back(std::move(run));
        i += count;
    }
    return runs;
}

void record_fused(OpRecorder& r, const FusedRun& run) {
    kPatterns[run.pattern].record(r, r.graph().nodes().subspan(run.first, run.count));
}

}  // namespace kiln::vk
