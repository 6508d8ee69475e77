#pragma once
// GGUF metadata values. The variant's alternatives are ordered by GGUF's value-type ids, so
// `value.index()` is the type id written in the file.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
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

struct GgufValue;
class GgufArray;
using GgufValueBase = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                                   std::string, GgufArray, uint64_t, int64_t, double>;

// An array whose elements all have type `elem`; arrays of arrays nest. Elements are stored
// packed (numbers as their bytes, strings as one buffer of texts and their end offsets), so an
// array takes about the memory its bytes take in the file: a value object per element would
// cost 40 bytes for every u8 of a hostile file. Copies are deep.
class GgufArray {
public:
    GgufArray() : GgufArray(GgufType::U8) {}
    explicit GgufArray(GgufType elem);
    // Elements of type `elem`; throws std::invalid_argument when one has another type.
    GgufArray(GgufType elem, std::initializer_list<GgufValue> items);
    GgufArray(const GgufArray& o);
    GgufArray& operator=(const GgufArray& o);
    GgufArray(GgufArray&&) noexcept;
    GgufArray& operator=(GgufArray&&) noexcept;
    ~GgufArray();

    GgufType elem() const { return elem_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    // Element i (i < size()) as a value; strings and nested arrays are copied.
    GgufValue operator[](size_t i) const;
    // Element i of a string array, without a copy.
    std::string_view string(size_t i) const;
    // Element i of an array of arrays.
    const GgufArray& array(size_t i) const;

    // Appends a value of type `elem`; throws std::invalid_argument for another type.
    void push_back(const GgufValue& v);
    // Appends a string (elem STRING), without building a value.
    void push_string(std::string_view s);
    // Appends numbers of type `elem` from their packed little-endian bytes (a multiple of the
    // element size); throws std::invalid_argument for strings, arrays and bools.
    void append_numbers(std::span<const uint8_t> bytes);
    // Reserves room for `n` elements whose strings total `text_bytes`.
    void reserve(size_t n, size_t text_bytes = 0);

    friend bool operator==(const GgufArray& a, const GgufArray& b);

private:
    struct Storage;
    GgufType elem_;
    size_t size_ = 0;
    std::unique_ptr<Storage> s_;
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

}  // namespace kiln
