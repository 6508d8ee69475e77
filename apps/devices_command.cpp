// `kiln devices`: the compute devices kiln can use. The CPU is always there, with its kernel set,
// AMX where CPUID has it, and its measured memory read bandwidth; Vulkan devices are listed
// when kiln was built with Vulkan and a driver is installed.
#include <cstdio>
#include <ostream>

#include "apps/args.h"
#include "apps/commands.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/memory_bandwidth.h"
#include "backends/cpu/thread_pool.h"
#include "graph/error.h"
#if KILN_HAVE_VULKAN
#include "backends/vulkan/context.h"
#endif

namespace kiln {

int devices_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const std::vector<FlagSpec> flags = {
        {"--threads", "-t", true, "threads for the bandwidth measurement (default: physical cores)"},
        {"--help", "-h", false, "show this help"},
    };
    Args args("devices", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln devices [-t N]\n" << describe_flags(flags);
        return 0;
    }
    if (!args.positionals().empty()) throw Error("kiln devices: unexpected argument '" + args.positionals()[0] + "'");
    const int threads = static_cast<int>(args.get_int("--threads", 1, 1024).value_or(physical_core_count()));
    out << "cpu: " << physical_core_count() << " physical cores, kernels " << isa_name(detect_cpu_isa());
    if (const CpuAmx amx = detect_cpu_amx(); amx.tile) {
        out << ", AMX (" << (amx.int8 ? "int8" : "") << (amx.int8 && amx.bf16 ? ", " : "") << (amx.bf16 ? "bf16" : "")
            << (cpu_amx_usable() ? "; prompt matmuls use it)" : "; refused by the OS, not used)");
    }
    // What a decode matmul can reach at best: it streams every weight once per token.
    char bw[64];
    std::snprintf(bw, sizeof bw, "%.1f GB/s", measure_read_bandwidth(threads));
    out << "\ncpu: memory read bandwidth " << bw << " with " << threads << (threads == 1 ? " thread" : " threads")
        << "\n";
#if KILN_HAVE_VULKAN
    try {
        auto devices = vk::list_vulkan_devices();
        if (devices.empty()) out << "vulkan: no devices\n";
        const std::string text = vk::describe_vulkan_devices(devices);
        out << text;
        if (!text.empty() && text.back() != '\n') out << "\n";
    } catch (const Error& e) {
        // No loader or driver is not an error of this command: the CPU still works.
        out << "vulkan: unavailable (" << e.what() << ")\n";
    }
#else
    out << "vulkan: not built in (Vulkan headers, volk or glslc were missing at build time)\n";
#endif
    (void)err;
    return 0;
}

}  // namespace kiln
