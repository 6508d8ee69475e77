#pragma once
// What every harness shares: where ../shared is, and the project's rule on errors (one line,
// never empty) checked on every kiln::Error a harness catches.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "graph/error.h"

namespace kiln::fuzz {

// A broken error message is a finding like a crash: abort so libFuzzer keeps the input.
inline void check_error(const std::exception& e) {
    const std::string_view m = e.what();
    if (m.empty() || m.find('\n') != std::string_view::npos) {
        std::fprintf(stderr, "error message is empty or not one line: '%.*s'\n", static_cast<int>(m.size()), m.data());
        std::abort();
    }
}

// Runs `f`: true when it returned, false when it threw a (well-formed) kiln::Error. Any other
// exception escapes to libFuzzer, which reports it as a crash.
// `check` inspects the error (check_error unless given).
template <typename F, typename Check = void (*)(const std::exception&)>
bool attempt(F&& f, Check check = check_error) {
    try {
        f();
        return true;
    } catch (const Error& e) {
        check(e);
        return false;
    }
}

// $KILN_SHARED, else ../shared beside the source tree (as tests/support/shared_dir.h).
inline std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("KILN_SHARED"); env && *env) return env;
    return std::filesystem::path(KILN_SOURCE_DIR) / ".." / "shared";
}

}  // namespace kiln::fuzz
