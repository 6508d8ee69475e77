#pragma once
// Choosing the backend from the command line: --backend auto|cpu|vulkan|reference, --device N,
// --gpu-layers N, -t N, --vk-matmul KERNEL. Shared by every command that runs a graph.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "apps/args.h"
#include "backends/backend.h"

namespace kiln {

std::vector<FlagSpec> backend_flags();  // --backend, --device, --gpu-layers, --threads, --vk-matmul

// `auto`: Vulkan (with the CPU behind it) on a real GPU when one is usable, else the CPU; a
// Vulkan device that fails to start under `auto` falls back to the CPU with a notice on `notes`.
// `vulkan` uses lavapipe too when it is the only device. Throws kiln::Error for a bad value,
// or when the backend asked for explicitly cannot start.
std::unique_ptr<Backend> make_backend(const Args& args, const std::string& command, std::ostream& notes);
// The same for a backend named explicitly (`kiln compare --backends cpu,vulkan`).
std::unique_ptr<Backend> make_backend_named(const std::string& name, const Args& args, const std::string& command,
                                            std::ostream& notes);

}  // namespace kiln
