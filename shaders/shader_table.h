#pragma once
// The table of embedded shaders that the build generates (shader_table.cpp.in); only spirv.cpp
// reads it. Entries hold accessor functions, not spans, so the table is constant-initialised and
// safe to read before main.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kiln::detail {

struct ShaderEntry {
    std::string_view name;
    std::span<const std::uint32_t> (*code)();
};

extern const ShaderEntry kShaderTable[];
extern const std::size_t kShaderCount;

}  // namespace kiln::detail
