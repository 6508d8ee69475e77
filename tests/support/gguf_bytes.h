#pragma once
// Hand-assembles GGUF bytes field by field, so tests can write files the writer never would
// (absurd counts, bad types, overlapping tensors).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::testing {

class GgufBytes {
public:
    explicit GgufBytes(uint32_t version = 3) : version_(version) {}

    template <typename T>
    GgufBytes& raw(T v) {
        const size_t at = bytes.size();
        bytes.resize(at + sizeof(T));
        std::memcpy(bytes.data() + at, &v, sizeof(T));
        return *this;
    }
    GgufBytes& count(uint64_t n) { return version_ == 1 ? raw<uint32_t>(static_cast<uint32_t>(n)) : raw<uint64_t>(n); }
    GgufBytes& str(const std::string& s) {
        count(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    GgufBytes& header(uint64_t n_tensors, uint64_t n_kv) {
        raw<uint32_t>(0x46554747).raw<uint32_t>(version_);
        return count(n_tensors).count(n_kv);
    }
    GgufBytes& kv_u32(const std::string& key, uint32_t v) { return str(key).raw<uint32_t>(4).raw<uint32_t>(v); }
    GgufBytes& kv_str(const std::string& key, const std::string& v) { return str(key).raw<uint32_t>(8).str(v); }
    // A tensor info with dims in ggml order.
    GgufBytes& tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
        str(name).raw<uint32_t>(static_cast<uint32_t>(dims.size()));
        for (uint64_t d : dims) count(d);
        return raw<uint32_t>(type).raw<uint64_t>(offset);
    }
    GgufBytes& pad(size_t alignment = 32) {
        while (bytes.size() % alignment) bytes.push_back(0);
        return *this;
    }
    GgufBytes& zeros(size_t n) {
        bytes.resize(bytes.size() + n, 0);
        return *this;
    }

    std::vector<uint8_t> bytes;

private:
    uint32_t version_;
};

}  // namespace kiln::testing
