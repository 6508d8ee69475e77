#include "graph/dtype.h"

#include <array>
#include <cctype>

#include "graph/checked_math.h"

namespace kiln {
namespace {

struct Entry {
    DType type;
    DTypeInfo info;
};

// Block layouts are fixed by the GGUF format (ggml's type traits); see graph/quant/blocks.h
// for the computable ones.
constexpr std::array kTable = {
    Entry{DType::F32, {"f32", 1, 4, false, true}},
    Entry{DType::F16, {"f16", 1, 2, false, true}},
    Entry{DType::Q4_0, {"q4_0", 32, 18, true, true}},
    Entry{DType::Q4_1, {"q4_1", 32, 20, true, true}},
    Entry{DType::Q5_0, {"q5_0", 32, 22, true, true}},
    Entry{DType::Q5_1, {"q5_1", 32, 24, true, true}},
    Entry{DType::Q8_0, {"q8_0", 32, 34, true, true}},
    Entry{DType::Q8_1, {"q8_1", 32, 36, true, false}},
    Entry{DType::Q2_K, {"q2_K", 256, 84, true, true}},
    Entry{DType::Q3_K, {"q3_K", 256, 110, true, true}},
    Entry{DType::Q4_K, {"q4_K", 256, 144, true, true}},
    Entry{DType::Q5_K, {"q5_K", 256, 176, true, true}},
    Entry{DType::Q6_K, {"q6_K", 256, 210, true, true}},
    Entry{DType::Q8_K, {"q8_K", 256, 292, true, true}},
    Entry{DType::IQ2_XXS, {"iq2_xxs", 256, 66, true, false}},
    Entry{DType::IQ2_XS, {"iq2_xs", 256, 74, true, false}},
    Entry{DType::IQ3_XXS, {"iq3_xxs", 256, 98, true, false}},
    Entry{DType::IQ1_S, {"iq1_s", 256, 50, true, false}},
    Entry{DType::IQ4_NL, {"iq4_nl", 32, 18, true, true}},
    Entry{DType::IQ3_S, {"iq3_s", 256, 110, true, false}},
    Entry{DType::IQ2_S, {"iq2_s", 256, 82, true, false}},
    Entry{DType::IQ4_XS, {"iq4_xs", 256, 136, true, false}},
    Entry{DType::I8, {"i8", 1, 1, false, false}},
    Entry{DType::I16, {"i16", 1, 2, false, false}},
    Entry{DType::I32, {"i32", 1, 4, false, true}},
    Entry{DType::I64, {"i64", 1, 8, false, false}},
    Entry{DType::F64, {"f64", 1, 8, false, false}},
    Entry{DType::IQ1_M, {"iq1_m", 256, 56, true, false}},
    Entry{DType::BF16, {"bf16", 1, 2, false, true}},
    Entry{DType::TQ1_0, {"tq1_0", 256, 54, true, false}},
    Entry{DType::TQ2_0, {"tq2_0", 256, 66, true, false}},
    Entry{DType::MXFP4, {"mxfp4", 32, 17, true, false}},
};

bool equal_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t id) {
    for (const Entry& e : kTable) {
        if (static_cast<uint32_t>(e.type) == id) return e.info;
    }
    return std::nullopt;
}

const DTypeInfo& info(DType t) {
    for (const Entry& e : kTable) {
        if (e.type == t) return e.info;
    }
    return kTable[0].info;  // unreachable for a valid enum value
}

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const Entry& e : kTable) {
        if (equal_ignore_case(e.info.name, name)) return e.type;
    }
    return std::nullopt;
}

std::optional<uint64_t> row_bytes(DType t, uint64_t n) {
    const DTypeInfo& i = info(t);
    if (n % i.block_size != 0) return std::nullopt;
    uint64_t bytes = 0;
    if (!checked_mul(n / i.block_size, i.block_bytes, &bytes)) return std::nullopt;
    return bytes;
}

}  // namespace kiln
