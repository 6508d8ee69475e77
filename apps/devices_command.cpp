// `kiln devices`: the compute devices kiln can use. The CPU is always there; Vulkan devices are
// listed when kiln was built with Vulkan and a driver is installed.
#include <ostream>

#include "apps/args.h"
#include "apps/commands.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/thread_pool.h"
#include "graph/error.h"
#if KILN_HAVE_VULKAN
#include "backends/vulkan/context.h"
#endif

namespace kiln {

int devices_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const std::vector<FlagSpec> flags = {{"--help", "-h", false, "show this help"}};
    Args args("devices", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln devices\n" << describe_flags(flags);
        return 0;
    }
    out << "cpu: " << physical_core_count() << " physical cores, kernels " << isa_name(detect_cpu_isa()) << "\n";
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
