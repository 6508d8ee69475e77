#pragma once
// GGUF metadata values. The variant's alternatives are ordered by GGUF's value-type ids, so
// `value.index()` is the type id written in the file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kiln {

enum class GgufType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
constexpr uint32_t kGgufTypeCount = 13;

std::string_view gguf_type_name(GgufType t);

struct GgufArray;
using GgufValueBase = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                                   std::string, GgufArray, uint64_t, int64_t, double>;

// An array's elements all have type `elem`; arrays of arrays nest.
struct GgufArray {
    GgufType elem = GgufType::U8;
    std::vector<struct GgufValue> items;
};

struct GgufValue : GgufValueBase {
    using GgufValueBase::GgufValueBase;
    GgufValue() : GgufValueBase(uint8_t{0}) {}

    GgufType type() const { return static_cast<GgufType>(index()); }
    bool is_integer() const;
    bool is_float() const { return type() == GgufType::F32 || type() == GgufType::F64; }

    // Lossless conversions: nullopt when the type is not numeric or the value does not fit.
    std::optional<int64_t> to_int() const;
    std::optional<uint64_t> to_uint() const;
    std::optional<double> to_double() const;  // any integer or float

    const std::string* string() const { return std::get_if<std::string>(this); }
    const GgufArray* array() const { return std::get_if<GgufArray>(this); }

    // Short human-readable form; arrays longer than `max_items` are abbreviated.
    std::string describe(size_t max_items = 8) const;
};

bool operator==(const GgufArray& a, const GgufArray& b);

}  // namespace kiln
