#pragma once
// Where tests find ../shared (real models, goldens): $KILN_SHARED, else ../shared next to the
// repository. Tests that need it call KILN_REQUIRE_SHARED and are skipped with a message when
// it is absent, except in CI (CI set), which always has it. Where shared/ is present, a file
// missing from it fails the test: a renamed golden must not turn its test into a skip.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string_view>

namespace kiln::testing {

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && *ci && std::string_view(ci) != "false" && std::string_view(ci) != "0";
}

inline std::optional<std::filesystem::path> shared_dir() {
    if (const char* env = std::getenv("KILN_SHARED"); env && *env) {
        if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
        return std::nullopt;
    }
    std::filesystem::path p = std::filesystem::path(KILN_SOURCE_DIR) / ".." / "shared";
    if (std::filesystem::is_directory(p)) return std::filesystem::weakly_canonical(p);
    return std::nullopt;
}

}  // namespace kiln::testing

// Declares `std::filesystem::path shared` or skips the test.
#define KILN_REQUIRE_SHARED(shared)                                                                 \
    const auto shared##_opt = ::kiln::testing::shared_dir();                                        \
    if (!shared##_opt && ::kiln::testing::in_ci()) FAIL() << "../shared not found in CI (set KILN_SHARED)"; \
    if (!shared##_opt) GTEST_SKIP() << "../shared not found (set KILN_SHARED); skipping";          \
    const std::filesystem::path shared = *shared##_opt

// Declares `std::filesystem::path var` for a file under shared/: skips without shared/, fails
// when shared/ lacks the file.
#define KILN_REQUIRE_SHARED_FILE(var, relative)                \
    KILN_REQUIRE_SHARED(var##_root);                           \
    const std::filesystem::path var = var##_root / (relative); \
    if (!std::filesystem::exists(var)) FAIL() << var << " is missing from shared/"
