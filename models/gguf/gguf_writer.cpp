#include "models/gguf/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"

namespace kiln {
namespace {

class ByteSink {
public:
    explicit ByteSink(std::vector<uint8_t>& out) : out_(out) {}

    template <typename T>
    void put(T v) {
        const size_t at = out_.size();
        out_.resize(at + sizeof(T));
        std::memcpy(out_.data() + at, &v, sizeof(T));
    }
    void put_string(const std::string& s) {
        put<uint64_t>(s.size());
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void put_value(const GgufValue& v) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::string>) {
                    put_string(x);
                } else if constexpr (std::is_same_v<T, GgufArray>) {
                    put<uint32_t>(static_cast<uint32_t>(x.elem()));
                    put<uint64_t>(x.size());
                    for (size_t i = 0; i < x.size(); ++i) put_value(x[i]);
                } else if constexpr (std::is_same_v<T, bool>) {
                    put<uint8_t>(x ? 1 : 0);
                } else {
                    put<T>(x);
                }
            },
            static_cast<const GgufValueBase&>(v));
    }
    void pad_to(uint64_t alignment) {
        while (out_.size() % alignment != 0) out_.push_back(0);
    }

private:
    std::vector<uint8_t>& out_;
};

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
    for (auto& kv : metadata_) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims,
                            std::span<const uint8_t> data) {
    add_tensor(name, type, std::move(dims), std::vector<uint8_t>(data.begin(), data.end()));
}

uint64_t GgufWriter::checked_bytes(const std::string& name, DType type, const std::vector<uint64_t>& dims) const {
    for (const Tensor& t : tensors_) {
        if (t.name == name) throw Error("gguf writer: tensor '" + name + "' added twice");
    }
    if (dims.empty() || dims.size() > GgufFile::kMaxDims) {
        throw Error("gguf writer: tensor '" + name + "' has " + std::to_string(dims.size()) + " dimensions");
    }
    uint64_t rows = 1;
    for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
    std::optional<uint64_t> row = row_bytes(type, dims[0]);
    if (!row) {
        throw Error("gguf writer: tensor '" + name + "': rows of " + std::to_string(dims[0]) + " do not fit " +
                    std::string(dtype_name(type)) + "'s blocks");
    }
    return *row * rows;
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims,
                            std::vector<uint8_t>&& data) {
    const uint64_t n = checked_bytes(name, type, dims);
    if (n != data.size()) {
        throw Error("gguf writer: tensor '" + name + "': " + std::to_string(data.size()) +
                    " bytes do not match its " + std::string(dtype_name(type)) + " shape");
    }
    tensors_.push_back({name, type, std::move(dims), n, std::move(data), {}});
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> dims, TensorFill fill) {
    const uint64_t n = checked_bytes(name, type, dims);
    tensors_.push_back({name, type, std::move(dims), n, {}, std::move(fill)});
}

std::span<const uint8_t> GgufWriter::bytes_of(const Tensor& t, std::vector<uint8_t>& scratch) const {
    if (!t.fill) return t.data;
    scratch.assign(t.n_bytes, 0);
    t.fill(scratch);
    return scratch;
}

uint64_t GgufWriter::alignment() const {
    for (const auto& kv : metadata_) {
        if (kv.first == "general.alignment") {
            if (const uint32_t* a = std::get_if<uint32_t>(&kv.second); a && *a && (*a & (*a - 1)) == 0) return *a;
            throw Error("gguf writer: general.alignment must be a u32 power of two");
        }
    }
    return GgufFile::kDefaultAlignment;
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
    const uint64_t align = alignment();
    std::vector<uint8_t> out;
    ByteSink sink(out);
    sink.put<uint32_t>(GgufFile::kMagic);
    sink.put<uint32_t>(3);
    sink.put<uint64_t>(tensors_.size());
    sink.put<uint64_t>(metadata_.size());
    for (const auto& [key, value] : metadata_) {
        sink.put_string(key);
        sink.put<uint32_t>(static_cast<uint32_t>(value.type()));
        sink.put_value(value);
    }
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        sink.put_string(t.name);
        sink.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
        for (uint64_t d : t.dims) sink.put<uint64_t>(d);
        sink.put<uint32_t>(static_cast<uint32_t>(t.type));
        sink.put<uint64_t>(offset);
        offset += (t.n_bytes + align - 1) / align * align;
    }
    sink.pad_to(align);
    return out;
}

uint64_t GgufWriter::padding_after(const Tensor& t) const {
    const uint64_t align = alignment();
    return (align - t.n_bytes % align) % align;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    std::vector<uint8_t> out = header_bytes();
    std::vector<uint8_t> scratch;
    for (const Tensor& t : tensors_) {
        const auto bytes = bytes_of(t, scratch);
        out.insert(out.end(), bytes.begin(), bytes.end());
        out.resize(out.size() + padding_after(t), 0);
    }
    return out;
}

void GgufWriter::write(const std::filesystem::path& path, bool data_as_holes) const {
    std::filesystem::path tmp = path;
    tmp += ".partial";
    try {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        auto put = [&](const uint8_t* p, uint64_t n) {
            if (out) out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
        };
        const std::vector<uint8_t> header = header_bytes();
        put(header.data(), header.size());
        if (data_as_holes) {
            uint64_t size = header.size();
            for (const Tensor& t : tensors_) size += t.n_bytes + padding_after(t);
            if (!out || !out.flush()) throw Error(path.string() + ": cannot write");
            out.close();
            std::error_code ec;
            std::filesystem::resize_file(tmp, size, ec);  // truncate(2) extends with holes
            if (ec) throw Error(path.string() + ": cannot extend to " + std::to_string(size) + " bytes: " + ec.message());
        }
        const std::vector<uint8_t> zeros(alignment(), 0);
        std::vector<uint8_t> scratch;
        for (const Tensor& t : data_as_holes ? std::span<const Tensor>() : std::span<const Tensor>(tensors_)) {
            const auto bytes = bytes_of(t, scratch);
            put(bytes.data(), bytes.size());
            put(zeros.data(), padding_after(t));
        }
        if (!data_as_holes && (!out || !out.flush())) throw Error(path.string() + ": cannot write");
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw Error(path.string() + ": cannot write: " + ec.message());
    }
}

GgufValue gguf_string_array(const std::vector<std::string>& items) {
    GgufArray a(GgufType::STRING);
    for (const auto& s : items) a.push_string(s);
    return a;
}

GgufValue gguf_f32_array(const std::vector<float>& items) {
    GgufArray a(GgufType::F32);
    a.append_numbers({reinterpret_cast<const uint8_t*>(items.data()), items.size() * sizeof(float)});
    return a;
}

GgufValue gguf_i32_array(const std::vector<int32_t>& items) {
    GgufArray a(GgufType::I32);
    a.append_numbers({reinterpret_cast<const uint8_t*>(items.data()), items.size() * sizeof(int32_t)});
    return a;
}

}  // namespace kiln
