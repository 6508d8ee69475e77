#include "apps/memory_budget_print.h"

#include <ostream>

#include "apps/format.h"

namespace kiln {

void print_memory_budget(const MemoryBudget& budget, std::ostream& out) {
    const SessionOptions& o = budget.options;
    out << "memory budget: " << (budget.n_sessions > 1 ? std::to_string(budget.n_sessions) + " sessions" : "a session")
        << " of " << o.n_ctx << " tokens, batch " << o.n_batch << ", " << dtype_name(o.kv_type) << " KV cache ("
        << with_commas(budget.kv_bytes_per_token) << " bytes per token per session)\n";
    for (const BackendBudget& b : budget.backends) {
        out << "  " << pad_right(b.backend, 10) << "weights " << human_bytes(b.weights) << ", KV cache "
            << human_bytes(b.kv_cache) << ", arenas " << human_bytes(b.arenas) << ", inputs " << human_bytes(b.inputs)
            << " = " << human_bytes(b.total());
        if (b.limit) out << " of " << human_bytes(b.limit->bytes) << " (" << b.limit->what << ")";
        out << "\n";
    }
    const auto problem = memory_budget_problem(budget);
    out << "  " << (problem ? "does not fit: " + *problem : "fits") << "\n";
}

}  // namespace kiln
