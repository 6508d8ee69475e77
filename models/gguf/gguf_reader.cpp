#include "models/gguf/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "graph/checked_math.h"
#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/mapped_file.h"
#include "models/utf8.h"

namespace kiln {

// Walks the header once, front to back. Every read is bounds-checked; every count is checked
// against the bytes left before anything is reserved, so no allocation is sized by a field
// the file has not yet proven it can back.
class GgufParser {
public:
    GgufParser(GgufFile& file) : f_(file), bytes_(file.bytes_) {}

    void parse() {
        if (bytes_.size() < 8) fail(0, "too small to be a GGUF file (" + std::to_string(bytes_.size()) + " bytes)");
        uint32_t magic = read<uint32_t>("magic");
        if (magic != GgufFile::kMagic) fail(0, "bad magic (not a GGUF file)");
        f_.version_ = read<uint32_t>("version");
        if (f_.version_ < 1 || f_.version_ > 3) {
            std::string hint = (f_.version_ & 0xFFFF) == 0 ? " (a big-endian file?)" : "";
            fail(4, "unsupported GGUF version " + std::to_string(f_.version_) + hint);
        }
        const uint64_t counts_at = pos_;
        uint64_t n_tensors = read_count("tensor count");
        uint64_t n_kv = read_count("metadata count");

        // Smallest possible encodings: a key/value is a length, one key byte, a type and one
        // value byte; a tensor info is a length, one name byte, n_dims, one dim, type and offset.
        const uint64_t min_kv = count_bytes() + 1 + 4 + 1;
        const uint64_t min_tensor = count_bytes() + 1 + 4 + count_bytes() + 4 + 8;
        if (n_kv > remaining() / min_kv) {
            fail(counts_at, "metadata count " + std::to_string(n_kv) + " exceeds what the remaining " +
                                std::to_string(remaining()) + " bytes can hold");
        }
        if (n_tensors > remaining() / min_tensor) {
            fail(counts_at, "tensor count " + std::to_string(n_tensors) + " exceeds what the remaining " +
                                std::to_string(remaining()) + " bytes can hold");
        }

        count_values(counts_at, n_kv, "metadata count " + std::to_string(n_kv));
        if (n_tensors > GgufFile::kMaxTensors) {
            fail(counts_at, "tensor count " + std::to_string(n_tensors) + " exceeds the " +
                                std::to_string(GgufFile::kMaxTensors) + " kiln reads");
        }
        f_.metadata_.reserve(n_kv);
        for (uint64_t i = 0; i < n_kv; ++i) read_key_value(i);
        read_alignment();

        f_.tensors_.reserve(n_tensors);
        for (uint64_t i = 0; i < n_tensors; ++i) read_tensor_info(i);

        uint64_t data_offset = 0;
        if (!checked_align_up(pos_, f_.alignment_, &data_offset) ||
            (n_tensors > 0 && data_offset > bytes_.size())) {
            fail(pos_, "data section (aligned to " + std::to_string(f_.alignment_) + ") starts past the end of the file (" +
                           std::to_string(bytes_.size()) + " bytes)");
        }
        f_.data_offset_ = data_offset;
        check_tensor_extents();
    }

private:
    [[noreturn]] void fail(uint64_t at, const std::string& what) const {
        throw Error(f_.name_ + ": " + what + " (at byte " + std::to_string(at) + ")");
    }

    uint64_t remaining() const { return bytes_.size() - pos_; }
    uint64_t count_bytes() const { return f_.version_ == 1 ? 4 : 8; }

    template <typename T>
    T read(std::string_view what) {
        if (remaining() < sizeof(T)) {
            fail(pos_, std::string(what) + ": file ends after " + std::to_string(bytes_.size()) + " bytes");
        }
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    // Counts and lengths are 32-bit in GGUF v1 and 64-bit later.
    uint64_t read_count(std::string_view what) {
        return f_.version_ == 1 ? read<uint32_t>(what) : read<uint64_t>(what);
    }

    std::string_view read_string_view(std::string_view what) {
        const uint64_t at = pos_;
        uint64_t len = read_count(what);
        if (len > remaining()) {
            fail(at, std::string(what) + ": string of " + std::to_string(len) + " bytes exceeds the " +
                         std::to_string(remaining()) + " bytes left in the file");
        }
        std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
        if (size_t bad = utf8_first_invalid(s); bad != std::string::npos) {
            fail(pos_ + bad, std::string(what) + ": string is not valid UTF-8");
        }
        pos_ += len;
        return s;
    }
    std::string read_string(std::string_view what) { return std::string(read_string_view(what)); }

    // The text bytes of the next n strings, walking their lengths without reading them (the
    // reads that follow check every length again and fail with the right offset).
    uint64_t string_bytes_ahead(uint64_t n) const {
        uint64_t total = 0, at = pos_;
        for (uint64_t i = 0; i < n && bytes_.size() - at >= count_bytes(); ++i) {
            uint64_t len = 0;
            std::memcpy(&len, bytes_.data() + at, count_bytes());  // little-endian, as the file
            at += count_bytes();
            if (len > bytes_.size() - at) break;
            at += len;
            total += len;
        }
        return total;
    }

    uint64_t min_value_bytes(GgufType t) const {
        switch (t) {
            case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
            case GgufType::U16: case GgufType::I16: return 2;
            case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
            case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
            case GgufType::STRING: return count_bytes();
            case GgufType::ARRAY: return 4 + count_bytes();
        }
        return 1;
    }

    GgufType read_type(const std::string& what) {
        const uint64_t at = pos_;
        uint32_t t = read<uint32_t>(what);
        if (t >= kGgufTypeCount) fail(at, what + ": unknown value type " + std::to_string(t));
        return static_cast<GgufType>(t);
    }

    GgufValue read_value(GgufType t, const std::string& what, int depth) {
        switch (t) {
            case GgufType::U8: return read<uint8_t>(what);
            case GgufType::I8: return read<int8_t>(what);
            case GgufType::U16: return read<uint16_t>(what);
            case GgufType::I16: return read<int16_t>(what);
            case GgufType::U32: return read<uint32_t>(what);
            case GgufType::I32: return read<int32_t>(what);
            case GgufType::F32: return read<float>(what);
            case GgufType::U64: return read<uint64_t>(what);
            case GgufType::I64: return read<int64_t>(what);
            case GgufType::F64: return read<double>(what);
            case GgufType::BOOL: {
                const uint64_t at = pos_;
                uint8_t b = read<uint8_t>(what);
                if (b > 1) fail(at, what + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
                return b == 1;
            }
            case GgufType::STRING: return read_string(what);
            case GgufType::ARRAY: return read_array(what, depth);
        }
        fail(pos_, what + ": unknown value type");
    }

    GgufValue read_array(const std::string& what, int depth) {
        const uint64_t at = pos_;
        if (depth >= GgufFile::kMaxArrayNesting) {
            fail(at, what + ": arrays nested deeper than " + std::to_string(GgufFile::kMaxArrayNesting));
        }
        GgufArray a(read_type(what));
        const GgufType elem = a.elem();
        uint64_t n = read_count(what);
        if (n > remaining() / min_value_bytes(elem)) {
            fail(at, what + ": array of " + std::to_string(n) + " " + std::string(gguf_type_name(elem)) +
                         " exceeds the " + std::to_string(remaining()) + " bytes left in the file");
        }
        if (elem == GgufType::ARRAY) {
            // Each nested array is an object of its own: count them with the keys.
            count_values(at, n, what);
            a.reserve(n);
            for (uint64_t i = 0; i < n; ++i) a.push_back(read_array(what, depth + 1));
        } else if (elem == GgufType::STRING) {
            a.reserve(n, string_bytes_ahead(n));
            for (uint64_t i = 0; i < n; ++i) a.push_string(read_string_view(what));
        } else if (elem == GgufType::BOOL) {
            a.reserve(n);
            for (uint64_t i = 0; i < n; ++i) a.push_back(read_value(elem, what, depth + 1));
        } else {
            // Numbers are copied as they lie in the file (little-endian, packed).
            a.append_numbers(bytes_.subspan(pos_, n * min_value_bytes(elem)));
            pos_ += n * min_value_bytes(elem);
        }
        return a;
    }

    // Keys and nested arrays are objects in memory several times their smallest encoding, so
    // their number is capped: a file cannot make kiln spend gigabytes on them.
    void count_values(uint64_t at, uint64_t n, const std::string& what) {
        if (n > GgufFile::kMaxMetadataValues - values_) {
            fail(at, what + ": more than " + std::to_string(GgufFile::kMaxMetadataValues) +
                         " metadata keys and nested arrays in the file");
        }
        values_ += n;
    }

    void read_key_value(uint64_t index) {
        const uint64_t at = pos_;
        std::string key = read_string("key of metadata entry " + std::to_string(index));
        if (key.empty()) fail(at, "metadata entry " + std::to_string(index) + " has an empty key");
        const std::string what = "key " + kiln::quoted(key);
        // Names are quoted in messages all through kiln, which must stay one line.
        if (escape_control(key) != key) fail(at, what + " holds control characters");
        if (f_.key_index_.count(key)) fail(at, what + " appears twice");
        GgufType t = read_type(what);
        GgufValue v = read_value(t, what, 0);
        f_.key_index_.emplace(key, f_.metadata_.size());
        f_.metadata_.push_back({std::move(key), std::move(v)});
    }

    void read_alignment() {
        const GgufValue* v = f_.find("general.alignment");
        if (!v) return;
        const uint32_t* a = std::get_if<uint32_t>(v);
        if (!a) {
            fail(0, "key 'general.alignment': expected u32, found " + std::string(gguf_type_name(v->type())));
        }
        if (*a == 0 || (*a & (*a - 1)) != 0 || *a > GgufFile::kMaxAlignment) {
            fail(0, "key 'general.alignment': " + std::to_string(*a) + " is not a power of two up to " +
                        std::to_string(GgufFile::kMaxAlignment));
        }
        f_.alignment_ = *a;
    }

    void read_tensor_info(uint64_t index) {
        GgufTensorInfo t;
        t.info_offset = pos_;
        t.name = read_string("name of tensor " + std::to_string(index));
        if (t.name.empty()) fail(t.info_offset, "tensor " + std::to_string(index) + " has an empty name");
        const std::string what = "tensor " + kiln::quoted(t.name);
        if (escape_control(t.name) != t.name) fail(t.info_offset, what + " holds control characters");
        if (f_.tensor_index_.count(t.name)) fail(t.info_offset, what + " appears twice");

        const uint64_t dims_at = pos_;
        uint32_t n_dims = read<uint32_t>(what);
        if (n_dims == 0 || n_dims > GgufFile::kMaxDims) {
            fail(dims_at, what + ": " + std::to_string(n_dims) + " dimensions (1 to " +
                              std::to_string(GgufFile::kMaxDims) + " supported)");
        }
        t.n_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t dim_at = pos_;
            uint64_t ne = read_count(what);
            if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
                !checked_mul(t.n_elements, ne, &t.n_elements) ||
                t.n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                fail(dim_at, what + ": dimension " + std::to_string(d) + " = " + std::to_string(ne) +
                                 " is zero or makes the element count overflow");
            }
            t.dims.push_back(ne);
        }

        const uint64_t type_at = pos_;
        uint32_t type_id = read<uint32_t>(what);
        std::optional<DTypeInfo> ti = dtype_info(type_id);
        if (!ti) fail(type_at, what + ": unknown dtype id " + std::to_string(type_id));
        t.type = static_cast<DType>(type_id);
        if (t.dims[0] % ti->block_size != 0) {
            fail(dims_at, what + ": row of " + std::to_string(t.dims[0]) + " elements is not a multiple of " +
                              std::string(ti->name) + "'s block of " + std::to_string(ti->block_size));
        }
        std::optional<uint64_t> row = row_bytes(t.type, t.dims[0]);
        if (!row || !checked_mul(*row, t.n_elements / t.dims[0], &t.n_bytes)) {
            fail(dims_at, what + ": byte size overflows");
        }

        const uint64_t offset_at = pos_;
        t.offset = read<uint64_t>(what);
        if (t.offset % f_.alignment_ != 0) {
            fail(offset_at, what + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                                std::to_string(f_.alignment_));
        }
        f_.tensor_index_.emplace(t.name, f_.tensors_.size());
        f_.tensors_.push_back(std::move(t));
    }

    void check_tensor_extents() {
        const uint64_t data_size = bytes_.size() - f_.data_offset_;
        std::vector<const GgufTensorInfo*> by_offset;
        by_offset.reserve(f_.tensors_.size());
        for (const GgufTensorInfo& t : f_.tensors_) {
            uint64_t end = 0;
            if (!checked_add(t.offset, t.n_bytes, &end) || end > data_size) {
                fail(t.info_offset, "tensor '" + t.name + "': data [" + std::to_string(t.offset) + ", +" +
                                        std::to_string(t.n_bytes) + ") runs past the end of the file (data section holds " +
                                        std::to_string(data_size) + " bytes)");
            }
            by_offset.push_back(&t);
        }
        std::sort(by_offset.begin(), by_offset.end(),
                  [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
        for (size_t i = 1; i < by_offset.size(); ++i) {
            const GgufTensorInfo& prev = *by_offset[i - 1];
            const GgufTensorInfo& cur = *by_offset[i];
            if (prev.offset + prev.n_bytes > cur.offset) {
                fail(cur.info_offset, "tensor '" + cur.name + "': data overlaps tensor '" + prev.name + "'");
            }
        }
    }

    GgufFile& f_;
    std::span<const uint8_t> bytes_;
    uint64_t pos_ = 0;
    uint64_t values_ = 0;  // keys and nested arrays read so far
};

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::filesystem::path& path, WeightMemory memory) {
    auto map = std::make_unique<MappedFile>(path, memory);
    GgufFile f = parse(map->bytes(), path.string());
    f.map_ = std::move(map);
    return f;
}

WeightMemory GgufFile::weight_memory() const { return map_ ? map_->memory() : WeightMemory::mapped; }

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
    GgufFile f;
    f.bytes_ = bytes;
    f.name_ = std::move(name);
    GgufParser(f).parse();
    return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = key_index_.find(std::string(key));
    return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

void GgufFile::fail_key(std::string_view key, const std::string& what) const {
    throw Error(name_ + ": key " + kiln::quoted(key) + ": " + what);
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (const std::string* s = v->string()) return *s;
    fail_key(key, "expected string, found " + std::string(gguf_type_name(v->type())));
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) fail_key(key, "expected an integer, found " + std::string(gguf_type_name(v->type())));
    auto u = v->to_uint();
    if (!u) fail_key(key, "expected a non-negative integer, found " + v->describe());
    return u;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) fail_key(key, "expected an integer, found " + std::string(gguf_type_name(v->type())));
    auto i = v->to_int();
    if (!i) fail_key(key, "value " + v->describe() + " does not fit in int64");
    return i;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    auto d = v->to_double();
    if (!d) fail_key(key, "expected a number, found " + std::string(gguf_type_name(v->type())));
    return d;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (const bool* b = std::get_if<bool>(v)) return *b;
    fail_key(key, "expected bool, found " + std::string(gguf_type_name(v->type())));
}

const GgufArray* GgufFile::get_array(std::string_view key, GgufType elem) const {
    const GgufValue* v = find(key);
    if (!v) return nullptr;
    const GgufArray* a = v->array();
    if (!a) fail_key(key, "expected an array, found " + std::string(gguf_type_name(v->type())));
    if (a->elem() != elem) {
        fail_key(key, "expected an array of " + std::string(gguf_type_name(elem)) + ", found an array of " +
                          std::string(gguf_type_name(a->elem())));
    }
    return a;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::tensor_data(const GgufTensorInfo& t) const {
    return bytes_.subspan(data_offset_ + t.offset, t.n_bytes);
}

}  // namespace kiln
