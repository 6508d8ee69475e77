#pragma once
// How much host memory this process can still allocate: what the kernel reports available
// (MemAvailable: free memory plus caches it can drop), lowered by a cgroup memory limit when
// the process runs under one (containers, CI). Read when a session's memory budget is checked.
#include <optional>

#include "backends/backend.h"

namespace kiln {

// nullopt when /proc/meminfo cannot be read.
std::optional<MemoryLimit> host_memory_limit();

}  // namespace kiln
