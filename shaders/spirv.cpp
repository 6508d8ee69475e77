#include "shaders/spirv.h"

#include <algorithm>
#include <string>

#include "graph/error.h"
#include "shaders/shader_table.h"

namespace kiln {

namespace {

const detail::ShaderEntry* find_shader(std::string_view name) {
    const auto* end = detail::kShaderTable + detail::kShaderCount;
    const auto* it = std::find_if(detail::kShaderTable, end,
                                  [&](const detail::ShaderEntry& e) { return e.name == name; });
    return it == end ? nullptr : it;
}

}  // namespace

std::span<const std::uint32_t> shader_spirv(std::string_view name) {
    if (const auto* entry = find_shader(name)) return entry->code();
    std::string known;
    for (std::string_view n : shader_names()) known += (known.empty() ? "" : ", ") + std::string(n);
    throw Error("unknown shader '" + std::string(name) + "' (embedded shaders: " + known + ")");
}

bool has_shader(std::string_view name) { return find_shader(name) != nullptr; }

std::vector<std::string_view> shader_names() {
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < detail::kShaderCount; ++i) names.push_back(detail::kShaderTable[i].name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace kiln
