#pragma once
// SPIR-V of the compute shaders built from shaders/ and embedded in the binary, by name.
// A shader's name is its .comp file's stem ("softmax"), or the NAME given to kiln_add_shader
// for a variant compiled with extra -D defines (see shaders/README.md).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

// The shader's SPIR-V words. Throws kiln::Error naming `name` when no shader has that name.
std::span<const std::uint32_t> shader_spirv(std::string_view name);

bool has_shader(std::string_view name);

// Every embedded shader's name, sorted.
std::vector<std::string_view> shader_names();

}  // namespace kiln
