#include "models/session/memory_budget.h"

#include <algorithm>
#include <utility>

#include "backends/placed_backend.h"
#include "graph/byte_size.h"
#include "graph/error.h"
#include "graph/memory_use.h"
#include "models/arch/architectures.h"
#include "models/model.h"

namespace kiln {
namespace {

// One graph's use of each backend, as `backend` would place and compile it.
std::vector<BackendMemoryUse> graph_use(const Model& model, const Backend& backend, const SessionOptions& o,
                                        int n_tokens, NodeBackends* where) {
    GraphShape shape;
    shape.n_tokens = n_tokens;
    shape.n_ctx = o.n_ctx;
    shape.kv_type = o.kv_type;
    shape.logits_all = o.logits_all;
    shape.embeddings = o.embeddings;
    shape.state_prefix = "budget.";
    const ModelGraph mg = build_model_graph(model, shape);
    *where = node_backends(backend, mg.graph);
    return memory_use(mg.graph, where->of_node, where->backends.size());
}

// The parts of a group of backends' budgets, largest first, leaving out those under 1% of the
// total (a message names what matters).
std::vector<std::pair<const char*, uint64_t>> largest_parts(const std::vector<const BackendBudget*>& group) {
    std::vector<std::pair<const char*, uint64_t>> parts = {
        {"KV cache", 0}, {"weights", 0}, {"arenas", 0}, {"inputs", 0}};
    for (const BackendBudget* b : group) {
        parts[0].second += b->kv_cache;
        parts[1].second += b->weights;
        parts[2].second += b->arenas;
        parts[3].second += b->inputs;
    }
    std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    const uint64_t total = parts[0].second + parts[1].second + parts[2].second + parts[3].second;
    while (parts.size() > 1 && parts.back().second < total / 100) parts.pop_back();
    return parts;
}

std::string problem_text(const MemoryBudget& budget, const std::vector<const BackendBudget*>& group,
                         const MemoryLimit& limit) {
    uint64_t total = 0, kv = 0, weights = 0;
    bool device = false;
    std::string names;
    for (const BackendBudget* b : group) {
        total += b->total();
        kv += b->kv_cache;
        weights += b->weights;
        device = device || b->device;
        names += (names.empty() ? "" : "+") + b->backend;
    }
    const int n_ctx = budget.options.n_ctx;
    std::string line = budget.model + ": needs " + human_bytes(total) + " on " + names + " for " +
                       (budget.n_sessions > 1 ? std::to_string(budget.n_sessions) + " sessions" : "a session") +
                       " of " + std::to_string(n_ctx) + " tokens (";
    bool first = true;
    for (const auto& [what, bytes] : largest_parts(group)) {
        line += (first ? "" : ", ") + std::string(what) + " " + human_bytes(bytes);
        first = false;
    }
    line += ") but " + limit.what + " is " + human_bytes(limit.bytes);

    // What would fit: the context the rest leaves room for, then the other knobs.
    std::vector<std::string> tries;
    const uint64_t per_token = kv / (static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(budget.n_sessions));
    const uint64_t rest = total - kv;
    if (per_token > 0 && rest < limit.bytes) {
        const uint64_t fit = (limit.bytes - rest) / (per_token * static_cast<uint64_t>(budget.n_sessions));
        if (fit >= 1 && fit < static_cast<uint64_t>(n_ctx)) tries.push_back("-c " + std::to_string(fit) + " or less");
    }
    if (budget.options.kv_type == DType::F32 && kv > 0) tries.push_back("no --kv-f32 (halves the KV cache)");
    if (weights >= limit.bytes / 2) tries.push_back("a smaller quantization of the model (kiln quantize)");
    if (budget.n_sessions > 1) tries.push_back("fewer --parallel slots");
    if (device) tries.push_back("fewer --gpu-layers");
    for (size_t i = 0; i < tries.size(); ++i) {
        line += (i == 0 ? "; try " : i + 1 == tries.size() ? " or " : ", ") + tries[i];
    }
    return line;
}

}  // namespace

MemoryBudget plan_memory_budget(const Model& model, const Backend& backend, const SessionOptions& options,
                                int n_sessions) {
    MemoryBudget budget;
    budget.model = model.file().name();
    budget.n_sessions = n_sessions;
    budget.options = resolve_session_options(model, options);
    const SessionOptions& o = budget.options;

    // Weights and state from the largest graph (every graph reads the same ones); an arena per
    // compiled graph: each chunk size 1, 2, 4 .. n_batch, per session, and the batched decode
    // graph of BatchSession, about the size of a chunk graph as wide as the slots.
    NodeBackends where;
    const std::vector<BackendMemoryUse> largest = graph_use(model, backend, o, o.n_batch, &where);
    std::vector<uint64_t> arenas(where.backends.size(), 0);
    auto add_arenas = [&](int n_tokens, uint64_t times) {
        NodeBackends w;
        const std::vector<BackendMemoryUse> use = graph_use(model, backend, o, n_tokens, &w);
        for (size_t b = 0; b < use.size(); ++b) arenas[b] += use[b].arena * times;
    };
    for (int n = 1; n <= o.n_batch; n *= 2) add_arenas(n, static_cast<uint64_t>(n_sessions));
    if (n_sessions > 1) add_arenas(n_sessions, 1);

    for (size_t b = 0; b < where.backends.size(); ++b) {
        const BackendMemoryUse& u = largest[b];
        if (u.nodes == 0) continue;
        BackendBudget bb;
        bb.backend = std::string(where.backends[b]->name());
        bb.limit = where.backends[b]->memory_limit();
        bb.device = where.backends.size() > 1 && static_cast<int>(b) == kDeviceBackend;
        // Weights read into memory at load (resident) are already allocated: not asked again
        // of the host.
        const bool resident = model.file().weight_memory() == WeightMemory::resident;
        bb.weights = resident && bb.limit && bb.limit->host ? 0 : u.weights;
        bb.kv_cache = u.state * static_cast<uint64_t>(n_sessions);
        bb.arenas = arenas[b];
        bb.inputs = u.inputs * static_cast<uint64_t>(n_sessions);
        budget.kv_bytes_per_token += u.state / static_cast<uint64_t>(o.n_ctx);
        budget.backends.push_back(std::move(bb));
    }
    return budget;
}

namespace {

struct Problem {
    std::string text;
    bool device_memory = false;
};

std::optional<Problem> find_problem(const MemoryBudget& budget) {
    // Host-memory backends share one limit (the smallest they report); the others stand alone.
    std::vector<const BackendBudget*> host;
    std::optional<MemoryLimit> host_limit;
    for (const BackendBudget& b : budget.backends) {
        if (!b.limit) continue;
        if (b.limit->host) {
            host.push_back(&b);
            if (!host_limit || b.limit->bytes < host_limit->bytes) host_limit = b.limit;
        } else if (b.total() > b.limit->bytes) {
            return Problem{problem_text(budget, {&b}, *b.limit), true};
        }
    }
    uint64_t host_total = 0;
    for (const BackendBudget* b : host) host_total += b->total();
    if (host_limit && host_total > host_limit->bytes) return Problem{problem_text(budget, host, *host_limit), false};
    return std::nullopt;
}

}  // namespace

std::optional<std::string> memory_budget_problem(const MemoryBudget& budget) {
    if (auto p = find_problem(budget)) return p->text;
    return std::nullopt;
}

void check_memory_budget(const MemoryBudget& budget) {
    if (auto p = find_problem(budget)) throw MemoryBudgetError(p->text, p->device_memory);
}

}  // namespace kiln
