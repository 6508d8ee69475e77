#pragma once
// Byte counts as people read them, for messages and reports: "1.13 MiB", "64.00 GiB".
#include <cstdint>
#include <cstdio>
#include <string>

namespace kiln {

// MiB below 1 GiB, GiB from there up.
inline std::string human_bytes(uint64_t n) {
    char buf[32];
    if (n >= (uint64_t{1} << 30)) {
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1 << 30));
    } else {
        std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(n) / (1 << 20));
    }
    return buf;
}

}  // namespace kiln
