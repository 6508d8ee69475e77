#include "apps/backend_flags.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/placed_backend.h"
#include "backends/reference_backend.h"
#include "backends/vulkan/device_error.h"
#include "backends/vulkan/matmul_kernel.h"
#include "graph/error.h"
#include "models/session/memory_budget.h"
#if KILN_HAVE_VULKAN
#include "backends/vulkan/context.h"
#include "backends/vulkan/vulkan_backend.h"
#endif

namespace kiln {
namespace {

// --cpu-kernels: a kernel set this CPU can run, checked whichever backend is asked for.
std::optional<CpuIsa> cpu_kernels(const Args& args) {
    const std::optional<std::string> name = args.get("--cpu-kernels");
    if (!name || *name == "auto") return std::nullopt;
    const std::optional<CpuIsa> isa = isa_from_name(*name);
    if (!isa) throw Error("--cpu-kernels: unknown kernel set '" + *name + "' (auto, scalar, avx2, avx512, amx)");
    if (!cpu_supports_isa(*isa)) throw Error("--cpu-kernels: this CPU cannot run the " + *name + " kernels");
    return isa;
}

std::unique_ptr<Backend> make_cpu(const Args& args) {
    CpuOptions o;
    o.threads = static_cast<int>(args.get_int("--threads", 1, 1024).value_or(0));
    o.isa = cpu_kernels(args);
    return std::make_unique<CpuBackend>(o);
}

// Checked whichever backend is asked for, so a typo is an error rather than lost in `auto`'s
// fallback to the CPU.
vk::MatmulKernel matmul_kernel(const Args& args) {
    const std::optional<std::string> name = args.get("--vk-matmul");
    if (!name) return vk::MatmulKernel::automatic;
    if (auto kernel = vk::parse_matmul_kernel(*name)) return *kernel;
    throw Error("--vk-matmul: unknown kernel '" + *name + "' (lanes, vec, vec_shared, tiles, idot)");
}

#if KILN_HAVE_VULKAN
std::unique_ptr<Backend> make_vulkan(const Args& args, vk::MatmulKernel kernel, std::ostream& notes) {
    vk::VulkanOptions o;
    if (auto d = args.get_int("--device", 0, UINT32_MAX)) o.device_index = static_cast<uint32_t>(*d);
    o.matmul_kernel = kernel;
    o.fuse = !args.has("--no-fuse");
    // Progress for uploads that take a moment: every 10% of a batch of at least 256 MiB.
    o.upload_progress = [&notes, last = -1](uint64_t done, uint64_t total) mutable {
        if (total < (uint64_t{256} << 20)) return;
        const int tenth = static_cast<int>(done * 10 / total);
        if (tenth == last) return;
        last = tenth;
        notes << "uploading weights: " << tenth * 10 << "% of " << (total >> 20) << " MiB\n" << std::flush;
        if (tenth == 10) last = -1;
    };
    auto vulkan = std::make_unique<vk::VulkanBackend>(o);
    PlacementPolicy policy;
    policy.device_layers = static_cast<int>(args.get_int("--gpu-layers", 0, 1 << 20).value_or(-1));
    // Experts on the CPU: every layer's (--cpu-moe) or the first N layers' (--n-cpu-moe N).
    policy.host_expert_layers = args.has("--cpu-moe") ? -1 : static_cast<int>(args.get_int("--n-cpu-moe", 0, 1 << 20).value_or(0));
    return std::make_unique<PlacedBackend>(std::move(vulkan), make_cpu(args), policy);
}

// A GPU worth using by default: lavapipe and other CPU devices only when asked for.
bool has_real_gpu() {
    try {
        for (const auto& d : vk::list_vulkan_devices()) {
            if (d.usable() && d.type != vk::DeviceType::cpu && d.type != vk::DeviceType::other) return true;
        }
    } catch (const Error&) {
    }
    return false;
}
#endif

}  // namespace

WeightMemory weight_memory(const Args& args) {
    if (args.has("--mmap")) return WeightMemory::mapped;
    if (args.has("--no-mmap")) return WeightMemory::resident;
    const std::string backend = args.get("--backend").value_or("auto");
    if (backend == "cpu" || backend == "reference") return WeightMemory::resident;
#if KILN_HAVE_VULKAN
    if (backend == "auto" && !has_real_gpu() && !args.has("--device")) return WeightMemory::resident;
    return WeightMemory::mapped;
#else
    return WeightMemory::resident;  // only the CPU runs here
#endif
}

std::vector<FlagSpec> backend_flags() {
    return {
        {"--backend", "", true, "auto (default: Vulkan on a GPU, else CPU), cpu, vulkan, or reference (scalar, slow)"},
        {"--device", "", true, "Vulkan device index, as `kiln devices` lists them (default: the best)"},
        {"--gpu-layers", "-ngl --n-gpu-layers", true, "layers on the Vulkan device; the rest run on the CPU (default: all)"},
        {"--cpu-moe", "-cmoe", false, "mixture of experts: every layer's experts stay on the CPU (attention and routing on the GPU)"},
        {"--n-cpu-moe", "-ncmoe", true, "mixture of experts: the experts of the first N layers stay on the CPU"},
        {"--threads", "-t", true, "CPU threads (default: physical cores)"},
        {"--cpu-kernels", "", true, "CPU kernel set: auto (default: the best this CPU runs), scalar, avx2, avx512 or amx (amx: prompt batches of 16+ tokens on AMX tiles, so a token's bits depend on its batch; the others give the same bits in any batch)"},
        {"--vk-matmul", "", true, "Vulkan matmul kernel: auto (default: by device), lanes, vec, vec_shared, tiles or idot (integer dots, quantized weights)"},
        {"--no-fuse", "", false, "Vulkan: one dispatch per node, no fused kernels (kiln compare then checks every node)"},
        {"--mmap", "", false, "keep the weights in the model file's memory map (default where a GPU holds them)"},
        {"--no-mmap", "", false, "read the weights into memory with huge pages (default where the CPU runs them: faster decode)"},
    };
}

std::unique_ptr<Backend> make_backend(const Args& args, const std::string& command, std::ostream& notes) {
    return make_backend_named(args.get("--backend").value_or("auto"), args, command, notes);
}

std::unique_ptr<Backend> make_backend_named(const std::string& backend, const Args& args, const std::string& command,
                                            std::ostream& notes) {
    const vk::MatmulKernel kernel = matmul_kernel(args);
    (void)cpu_kernels(args);
    if (backend == "cpu") return make_cpu(args);
    if (backend == "reference") return std::make_unique<ReferenceBackend>();
#if KILN_HAVE_VULKAN
    if (backend == "vulkan") return make_vulkan(args, kernel, notes);
    if (backend == "auto") {
        if (!has_real_gpu() && !args.has("--device")) return make_cpu(args);
        try {
            return make_vulkan(args, kernel, notes);
        } catch (const Error& e) {
            notes << "kiln " << command << ": Vulkan unavailable (" << e.what() << "); running on the CPU\n";
            return make_cpu(args);
        }
    }
#else
    (void)notes;   // only the Vulkan paths have notes to give
    (void)kernel;  // or a matmul kernel to force
    if (backend == "vulkan") throw Error("kiln " + command + ": this kiln was built without Vulkan");
    if (backend == "auto") return make_cpu(args);
#endif
    throw Error("kiln " + command + ": unknown backend '" + backend + "' (auto, cpu, vulkan, reference)");
}

void place_with_fallback(std::unique_ptr<Backend>& backend, const Args& args, const std::string& command,
                         std::ostream& notes, const std::function<void(Backend&)>& place) {
    // Only auto chooses for the user; a backend asked for by name fails with the device's error.
    const bool automatic = args.get("--backend").value_or("auto") == "auto" && backend->name() != "cpu";
    try {
        place(*backend);
        return;
    } catch (const vk::DeviceError& e) {
        if (!automatic) throw;
        notes << "kiln " << command << ": the Vulkan device cannot hold the model (" << e.what()
              << "); running on the CPU\n";
    } catch (const MemoryBudgetError& e) {
        // Refused before allocating: only a shortage of the device's own memory leaves the host
        // a chance.
        if (!automatic || !e.device_memory()) throw;
        notes << "kiln " << command << ": the Vulkan device cannot hold the model (" << e.what()
              << "); running on the CPU\n";
    }
    backend = make_cpu(args);
    place(*backend);
}

}  // namespace kiln
