#pragma once
// Choosing the backend from the command line: --backend auto|cpu|vulkan|reference, --device N,
// --gpu-layers N (llama.cpp's -ngl / --n-gpu-layers), -t N, --cpu-kernels SET, --vk-matmul KERNEL. Shared by every
// command that runs a graph.
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "apps/args.h"
#include "backends/backend.h"
#include "models/gguf/mapped_file.h"

namespace kiln {

std::vector<FlagSpec> backend_flags();  // --backend, --device, --gpu-layers, --threads, --cpu-kernels, --vk-matmul,
                                        // --no-fuse, --mmap, --no-mmap

// Where the model's weights should live for the backend the flags choose: `resident` (huge
// pages) when the CPU will run them (--backend cpu, or auto without a real GPU), `mapped` when a
// GPU will hold its own copy; --mmap / --no-mmap decide instead.
WeightMemory weight_memory(const Args& args);

// `auto`: Vulkan (with the CPU behind it) on a real GPU when one is usable, else the CPU; a
// Vulkan device that fails to start under `auto` falls back to the CPU with a notice on `notes`.
// `vulkan` uses lavapipe too when it is the only device. Throws kiln::Error for a bad value,
// or when the backend asked for explicitly cannot start.
std::unique_ptr<Backend> make_backend(const Args& args, const std::string& command, std::ostream& notes);
// The same for a backend named explicitly (`kiln compare --backends cpu,vulkan`).
std::unique_ptr<Backend> make_backend_named(const std::string& name, const Args& args, const std::string& command,
                                            std::ostream& notes);

// Runs `place`, which puts the model on `backend` now (creates what uses it and makes it
// allocate: weights, KV cache). When `backend` is `--backend auto`'s Vulkan choice and `place`
// hits a device fault (vk::DeviceError: out of device memory, a lost device), says so in one
// line on `notes`, replaces `backend` with the CPU and runs `place` again. Other backends and
// other errors propagate. `place` must leave nothing using the backend when it throws.
void place_with_fallback(std::unique_ptr<Backend>& backend, const Args& args, const std::string& command,
                         std::ostream& notes, const std::function<void(Backend&)>& place);

}  // namespace kiln
