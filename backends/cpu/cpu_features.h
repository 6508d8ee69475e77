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
// Whether a token's results under `isa` are the same bits in any batch (decode, a prompt whole or
// in pieces): true for every set but Amx, whose prompt batches of 16+ tokens take AMX tiles with
// their own rounding while smaller ones take AVX-512's kernels.
constexpr bool cpu_isa_batch_invariant(CpuIsa isa) { return isa != CpuIsa::Amx; }
// The best set this CPU supports whose results do not depend on the batch.
CpuIsa detect_batch_invariant_cpu_isa();

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
