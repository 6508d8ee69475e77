#include "models/gguf/gguf_value.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

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

// Element storage of an array: see GgufArray.
struct GgufArray::Storage {
    std::vector<uint8_t> bytes;     // numbers packed, or string texts one after another
    std::vector<uint64_t> ends;     // strings: where each text ends in `bytes`
    std::vector<GgufValue> arrays;  // elem ARRAY
};

namespace {

size_t number_size(GgufType t) {
    switch (t) {
        case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
        case GgufType::U16: case GgufType::I16: return 2;
        case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
        case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
        case GgufType::STRING: case GgufType::ARRAY: return 0;
    }
    return 0;
}

template <typename T>
GgufValue load_number(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return GgufValue(v);
}

}  // namespace

GgufArray::GgufArray(GgufType elem) : elem_(elem), s_(std::make_unique<Storage>()) {}

GgufArray::GgufArray(GgufType elem, std::initializer_list<GgufValue> items) : GgufArray(elem) {
    for (const GgufValue& v : items) push_back(v);
}

GgufArray::GgufArray(const GgufArray& o)
    : elem_(o.elem_), size_(o.size_), s_(std::make_unique<Storage>(o.s_ ? *o.s_ : Storage{})) {}

GgufArray& GgufArray::operator=(const GgufArray& o) {
    if (this != &o) *this = GgufArray(o);
    return *this;
}

GgufArray::GgufArray(GgufArray&& o) noexcept : elem_(o.elem_), size_(o.size_), s_(std::move(o.s_)) { o.size_ = 0; }

GgufArray& GgufArray::operator=(GgufArray&& o) noexcept {
    elem_ = o.elem_;
    size_ = o.size_;
    s_ = std::move(o.s_);
    o.size_ = 0;
    return *this;
}

GgufArray::~GgufArray() = default;

GgufValue GgufArray::operator[](size_t i) const {
    const uint8_t* p = s_->bytes.data() + i * number_size(elem_);
    switch (elem_) {
        case GgufType::U8: return load_number<uint8_t>(p);
        case GgufType::I8: return load_number<int8_t>(p);
        case GgufType::U16: return load_number<uint16_t>(p);
        case GgufType::I16: return load_number<int16_t>(p);
        case GgufType::U32: return load_number<uint32_t>(p);
        case GgufType::I32: return load_number<int32_t>(p);
        case GgufType::F32: return load_number<float>(p);
        case GgufType::U64: return load_number<uint64_t>(p);
        case GgufType::I64: return load_number<int64_t>(p);
        case GgufType::F64: return load_number<double>(p);
        case GgufType::BOOL: return GgufValue(*p != 0);
        case GgufType::STRING: return GgufValue(std::string(string(i)));
        case GgufType::ARRAY: return s_->arrays[i];
    }
    return GgufValue();
}

std::string_view GgufArray::string(size_t i) const {
    const uint64_t begin = i == 0 ? 0 : s_->ends[i - 1];
    return {reinterpret_cast<const char*>(s_->bytes.data()) + begin, s_->ends[i] - begin};
}

const GgufArray& GgufArray::array(size_t i) const { return std::get<GgufArray>(s_->arrays[i]); }

void GgufArray::push_back(const GgufValue& v) {
    if (v.type() != elem_) {
        throw std::invalid_argument("GgufArray: a " + std::string(gguf_type_name(v.type())) + " in an array of " +
                                    std::string(gguf_type_name(elem_)));
    }
    if (!s_) s_ = std::make_unique<Storage>();
    if (const std::string* str = v.string()) {
        push_string(*str);
        return;
    }
    if (elem_ == GgufType::ARRAY) {
        s_->arrays.push_back(v);
    } else {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_arithmetic_v<T>) {
                    const uint8_t* p = reinterpret_cast<const uint8_t*>(&x);
                    s_->bytes.insert(s_->bytes.end(), p, p + sizeof x);
                }
            },
            static_cast<const GgufValueBase&>(v));
    }
    ++size_;
}

void GgufArray::push_string(std::string_view text) {
    if (elem_ != GgufType::STRING) {
        throw std::invalid_argument("GgufArray: a string in an array of " + std::string(gguf_type_name(elem_)));
    }
    if (!s_) s_ = std::make_unique<Storage>();
    s_->bytes.insert(s_->bytes.end(), text.begin(), text.end());
    s_->ends.push_back(s_->bytes.size());
    ++size_;
}

void GgufArray::append_numbers(std::span<const uint8_t> bytes) {
    const size_t size = number_size(elem_);
    if (size == 0 || elem_ == GgufType::BOOL || bytes.size() % size != 0) {
        throw std::invalid_argument("GgufArray: packed bytes for an array of " + std::string(gguf_type_name(elem_)));
    }
    if (!s_) s_ = std::make_unique<Storage>();
    s_->bytes.insert(s_->bytes.end(), bytes.begin(), bytes.end());
    size_ += bytes.size() / size;
}

void GgufArray::reserve(size_t n, size_t text_bytes) {
    if (!s_) s_ = std::make_unique<Storage>();
    switch (elem_) {
        case GgufType::STRING:
            s_->bytes.reserve(text_bytes);
            s_->ends.reserve(n);
            break;
        case GgufType::ARRAY: s_->arrays.reserve(n); break;
        default: s_->bytes.reserve(n * number_size(elem_));
    }
}

bool operator==(const GgufArray& a, const GgufArray& b) {
    if (a.elem_ != b.elem_ || a.size_ != b.size_) return false;
    if (a.size_ == 0) return true;
    return a.s_->bytes == b.s_->bytes && a.s_->ends == b.s_->ends && a.s_->arrays == b.s_->arrays;
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
            size_t shown = std::min(a.size(), max_items);
            for (size_t i = 0; i < shown; ++i) {
                if (i) out += ", ";
                out += a[i].describe(max_items);
            }
            if (shown < a.size()) {
                out += ", … (" + std::to_string(a.size()) + " " + std::string(gguf_type_name(a.elem())) + ")";
            }
            return out + "]";
        }
        default: return std::to_string(*to_int());
    }
}

}  // namespace kiln
