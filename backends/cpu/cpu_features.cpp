#include "backends/cpu/cpu_features.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace kiln {

std::string_view isa_name(CpuIsa isa) {
    switch (isa) {
        case CpuIsa::Scalar: return "scalar";
        case CpuIsa::Avx2: return "avx2";
        case CpuIsa::Avx512: return "avx512";
        case CpuIsa::Amx: return "amx";
    }
    return "?";
}

std::optional<CpuIsa> isa_from_name(std::string_view name) {
    for (CpuIsa isa : kAllCpuIsas) {
        if (isa_name(isa) == name) return isa;
    }
    return std::nullopt;
}

#if defined(__x86_64__)
// Clang 14's __builtin_cpu_supports does not know "f16c": CPUID leaf 1, ECX bit 29.
namespace {
bool cpu_has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
}  // namespace
#endif

bool cpu_supports_isa(CpuIsa isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (isa) {
        case CpuIsa::Scalar: return true;
        case CpuIsa::Avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
        case CpuIsa::Avx512:
            return cpu_supports_isa(CpuIsa::Avx2) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512vnni");
        case CpuIsa::Amx: return cpu_supports_isa(CpuIsa::Avx512) && cpu_amx_usable();
    }
    return false;
#else
    return isa == CpuIsa::Scalar;
#endif
}

CpuAmx detect_cpu_amx() {
    CpuAmx amx;
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {  // leaf 7: EDX bits 22, 24, 25
        amx.bf16 = (edx >> 22) & 1u;
        amx.tile = (edx >> 24) & 1u;
        amx.int8 = (edx >> 25) & 1u;
    }
#endif
    return amx;
}

bool cpu_amx_usable() {
#if defined(__x86_64__) && defined(__linux__)
    static const bool usable = [] {
        const CpuAmx amx = detect_cpu_amx();
        if (!amx.tile || !amx.int8 || !amx.bf16) return false;
        // The tile data (XSAVE component 18) is off for a process until it asks (Linux 5.16+).
        constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
        return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
    }();
    return usable;
#else
    return false;
#endif
}

CpuIsa detect_cpu_isa() {
    if (cpu_supports_isa(CpuIsa::Amx)) return CpuIsa::Amx;
    if (cpu_supports_isa(CpuIsa::Avx512)) return CpuIsa::Avx512;
    if (cpu_supports_isa(CpuIsa::Avx2)) return CpuIsa::Avx2;
    return CpuIsa::Scalar;
}

CpuIsa detect_batch_invariant_cpu_isa() {
    const CpuIsa best = detect_cpu_isa();
    return cpu_isa_batch_invariant(best) ? best : CpuIsa::Avx512;
}

}  // namespace kiln
