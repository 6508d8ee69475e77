#pragma once
// Element types of tensors. The numeric values are GGUF's (= ggml's) type ids, so a dtype read
// from a file needs no translation. Quantized types store `block_size` elements in
// `block_bytes` bytes; plain types have block_size 1.
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
};

struct DTypeInfo {
    std::string_view name;  // as ggml and llama.cpp print it: "f32", "q4_0", "q4_K"
    uint32_t block_size;    // elements per block
    uint32_t block_bytes;   // bytes per block
    bool quantized;
    bool computable;  // kiln can dequantize (and quantize) it; the others are only described
};

// Facts about a dtype id read from a file; nullopt for ids GGUF does not define.
std::optional<DTypeInfo> dtype_info(uint32_t id);

// Facts about a known dtype (never fails).
const DTypeInfo& info(DType t);

inline std::string_view dtype_name(DType t) { return info(t).name; }

// Parses a name such as "q4_K" or "F16" (case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of a row of `n` elements; nullopt when `n` is not a multiple of the block size or the
// size overflows.
std::optional<uint64_t> row_bytes(DType t, uint64_t n);

}  // namespace kiln
