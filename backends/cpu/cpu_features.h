#pragma once
// Which SIMD kernel set this CPU can run. Chosen once when the backend is created.
#include <optional>
#include <string_view>

namespace kiln {

enum class CpuIsa { Scalar, Avx2, Avx512 };

std::string_view isa_name(CpuIsa isa);
std::optional<CpuIsa> isa_from_name(std::string_view name);
// The best set this CPU and this build support.
CpuIsa detect_cpu_isa();
// Whether `isa` can run here (tests use this to cover every available path).
bool cpu_supports_isa(CpuIsa isa);

// Intel AMX as CPUID reports it (tiles, and their int8 and bf16 multiplies). The kernels do not
// use it yet; `kiln devices` says it is there.
struct CpuAmx {
    bool tile = false, int8 = false, bf16 = false;
};
CpuAmx detect_cpu_amx();

}  // namespace kiln
