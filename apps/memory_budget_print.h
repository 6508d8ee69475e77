#pragma once
// The memory budget as `kiln info --graph` prints it: per backend what the sessions would
// allocate, the limit, and whether it fits (with the refusal a session would give).
#include <iosfwd>

#include "models/session/memory_budget.h"

namespace kiln {

void print_memory_budget(const MemoryBudget& budget, std::ostream& out);

}  // namespace kiln
