#include "backends/host_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace kiln {
namespace {

std::optional<uint64_t> meminfo_bytes(const std::string& field) {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) != 0) continue;
        std::istringstream s(line.substr(field.size() + 1));
        uint64_t kib = 0;
        if (s >> kib) return kib * 1024;
    }
    return std::nullopt;
}

// A number in a cgroup file; nullopt for "max", a missing file or garbage.
std::optional<uint64_t> cgroup_number(const char* path) {
    std::ifstream in(path);
    uint64_t v = 0;
    if (in >> v) return v;
    return std::nullopt;
}

// What the cgroup lets this process still allocate (v2, then v1); nullopt without a limit.
std::optional<uint64_t> cgroup_room() {
    static constexpr const char* kFiles[][2] = {
        {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
        {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
    };
    for (const auto& [limit_file, usage_file] : kFiles) {
        const auto limit = cgroup_number(limit_file);
        const auto usage = cgroup_number(usage_file);
        // v1 writes "no limit" as a page-rounded INT64_MAX.
        if (!limit || !usage || *limit >= (uint64_t{1} << 62)) continue;
        return *limit > *usage ? *limit - *usage : 0;
    }
    return std::nullopt;
}

}  // namespace

std::optional<MemoryLimit> host_memory_limit() {
    const auto available = meminfo_bytes("MemAvailable");
    if (!available) return std::nullopt;
    const auto room = cgroup_room();
    if (room && *room < *available) return MemoryLimit{*room, "the cgroup memory limit", true};
    return MemoryLimit{*available, "host memory available", true};
}

std::optional<MemoryLimit> Backend::memory_limit() const { return host_memory_limit(); }

}  // namespace kiln
