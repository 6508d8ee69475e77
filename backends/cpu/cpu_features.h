#pragma once
// Which SIMD kernel set this CPU can run. Chosen once when the backend is created.
#include <optional>
#include <string_view>

namespace kiln {

// Amx is the Avx512 set whose prompt matmuls use Intel AMX tiles (cpu_amx_usable()).
enum class CpuIsa { Scalar, Avx2, Avx512, Amx };
// Every set, in order of preference from the least; tests walk it to cover each available path.
inline constexpr CpuIsa kAllCpuIsas[] = {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512, CpuIsa::Amx};

std::string_view isa_name(CpuIsa isa);
std::optional<CpuIsa> isa_from_name(std::string_view name);
// The best set this CPU and this build support.
CpuIsa detect_cpu_isa();
// Whether `isa` can run here (tests use this to cover every available path).
bool cpu_supports_isa(CpuIsa isa);

// Intel AMX as CPUID reports it (tiles, and their int8 and bf16 multiplies).
struct CpuAmx {
    bool tile = false, int8 = false, bf16 = false;
};
CpuAmx detect_cpu_amx();
// Whether the Amx kernels can run: CPUID reports tiles, int8 and bf16, and Linux granted this
// process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once). Refused: false, and the
// Avx512 set is used instead.
bool cpu_amx_usable();

}  // namespace kiln
