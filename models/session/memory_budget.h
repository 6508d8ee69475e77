#pragma once
// What sessions of a model will allocate on each backend (weights, KV cache, arenas, inputs),
// computed from the graphs they would compile before any of it is allocated, and the check
// that refuses a model that cannot fit: one line naming the largest parts, the limit and what
// to change. Session and BatchSession check it on construction; `kiln info --graph` prints it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/error.h"
#include "models/session/session.h"

namespace kiln {

class Model;

struct BackendBudget {
    std::string backend;               // its name ("cpu", "vulkan")
    std::optional<MemoryLimit> limit;  // what it can allocate, read when the budget was planned
    bool device = false;               // the device part of a placed backend (--gpu-layers moves it)
    uint64_t weights = 0;   // read in place from the file by host backends, uploaded by devices
    uint64_t kv_cache = 0;  // every session's
    uint64_t arenas = 0;    // every compiled graph's intermediates (each chunk size has its own)
    uint64_t inputs = 0;
    uint64_t total() const { return weights + kv_cache + arenas + inputs; }
};

struct MemoryBudget {
    std::string model;  // the file, for messages
    int n_sessions = 1;
    SessionOptions options;  // resolved: n_ctx and n_batch as the sessions will use them
    uint64_t kv_bytes_per_token = 0;  // one session's cache, over every backend
    std::vector<BackendBudget> backends;  // those that run at least one node
};

// The budget of `n_sessions` sessions (BatchSession slots) with `options`. Builds the graphs the
// sessions would compile (one per chunk size) without allocating their memory. Throws
// kiln::Error for options a Session would refuse.
MemoryBudget plan_memory_budget(const Model& model, const Backend& backend, const SessionOptions& options,
                                int n_sessions = 1);

// Why the budget does not fit (one line), or nullopt when it does or no limit is known. Backends
// whose limit is host memory are checked together against it.
std::optional<std::string> memory_budget_problem(const MemoryBudget& budget);

// The refusal: memory_budget_problem's line, and whether what ran short is a device's own
// memory (then the host may still hold the model: `--backend auto` falls back to the CPU).
class MemoryBudgetError : public Error {
public:
    MemoryBudgetError(const std::string& message, bool device_memory) : Error(message), device_memory_(device_memory) {}
    bool device_memory() const { return device_memory_; }

private:
    bool device_memory_;
};

// Throws MemoryBudgetError when the budget does not fit.
void check_memory_budget(const MemoryBudget& budget);

}  // namespace kiln
