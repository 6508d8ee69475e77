#include "models/gguf/gguf_value.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace kiln {

std::string_view gguf_type_name(GgufType t) {
    static constexpr std::array<std::string_view, kGgufTypeCount> names = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    auto i = static_cast<uint32_t>(t);
    return i < names.size() ? names[i] : "unknown";
}

bool GgufValue::is_integer() const {
    switch (type()) {
        case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
        case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
            return true;
        default:
            return false;
    }
}

std::optional<int64_t> GgufValue::to_int() const {
    if (!is_integer()) return std::nullopt;
    if (const auto* u = std::get_if<uint64_t>(this)) {
        if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return static_cast<int64_t>(*u);
    }
    return std::visit(
        [](const auto& v) -> std::optional<int64_t> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<int64_t>(v);
            return std::nullopt;
        },
        static_cast<const GgufValueBase&>(*this));
}

std::optional<uint64_t> GgufValue::to_uint() const {
    if (const auto* u = std::get_if<uint64_t>(this)) return *u;
    auto i = to_int();
    if (!i || *i < 0) return std::nullopt;
    return static_cast<uint64_t>(*i);
}

std::optional<double> GgufValue::to_double() const {
    if (const auto* f = std::get_if<float>(this)) return *f;
    if (const auto* d = std::get_if<double>(this)) return *d;
    if (const auto* u = std::get_if<uint64_t>(this)) return static_cast<double>(*u);
    if (auto i = to_int()) return static_cast<double>(*i);
    return std::nullopt;
}

namespace {

std::string quoted(const std::string& s, size_t max_chars = 60) {
    std::string out = "\"";
    size_t n = 0;
    for (char c : s) {
        if (n++ == max_chars) {
            out += "…";
            break;
        }
        switch (c) {
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

// Shortest text that reads back as the same value: 1e-05f prints as "1e-05", not 9.99999975e-06.
template <typename T>
std::string format_float(T v) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

}  // namespace

std::string GgufValue::describe(size_t max_items) const {
    switch (type()) {
        case GgufType::BOOL: return std::get<bool>(*this) ? "true" : "false";
        case GgufType::STRING: return quoted(std::get<std::string>(*this));
        case GgufType::F32: return format_float(std::get<float>(*this));
        case GgufType::F64: return format_float(std::get<double>(*this));
        case GgufType::U64: return std::to_string(std::get<uint64_t>(*this));
        case GgufType::ARRAY: {
            const GgufArray& a = std::get<GgufArray>(*this);
            std::string out = "[";
            size_t shown = std::min(a.items.size(), max_items);
            for (size_t i = 0; i < shown; ++i) {
                if (i) out += ", ";
                out += a.items[i].describe(max_items);
            }
            if (shown < a.items.size()) {
                out += ", … (" + std::to_string(a.items.size()) + " " + std::string(gguf_type_name(a.elem)) + ")";
            }
            return out + "]";
        }
        default: return std::to_string(*to_int());
    }
}

bool operator==(const GgufArray& a, const GgufArray& b) {
    return a.elem == b.elem && a.items == b.items;
}

}  // namespace kiln
