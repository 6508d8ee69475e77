// dequantize_row / quantize_row: argument checks and dispatch to the per-type functions, plus
// the plain element types (f32, f16, bf16, i32).
#include "graph/quant/quantize.h"

#include <cmath>
#include <cstring>
#include <string>

#include "graph/error.h"
#include "graph/quant/half.h"

namespace kiln {
namespace {

// Number of blocks of a row of n elements; throws naming the dtype and n when n is unusable.
int64_t block_count(const char* what, DType t, int64_t n) {
    const DTypeInfo& i = info(t);
    if (!i.computable) {
        throw Error(std::string(what) + ": dtype " + std::string(i.name) + " is not supported by kiln");
    }
    if (n < 0 || n % i.block_size != 0) {
        throw Error(std::string(what) + ": row of " + std::to_string(n) + " elements is not a multiple of " +
                    std::to_string(i.block_size) + " as dtype " + std::string(i.name) + " requires");
    }
    return n / i.block_size;
}

int32_t f32_to_i32(float v) {
    if (std::isnan(v)) return 0;
    if (v >= 2147483648.0f) return INT32_MAX;
    if (v <= -2147483648.0f) return INT32_MIN;
    return static_cast<int32_t>(std::nearbyint(v));
}

template <typename Block>
const Block* as(const void* p) {
    return static_cast<const Block*>(p);
}

template <typename Block>
Block* as(void* p) {
    return static_cast<Block*>(p);
}

}  // namespace

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
    const int64_t nb = block_count("dequantize_row", t, n);
    switch (t) {
        case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
        case DType::F16: {
            const auto* h = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(h[i]);
            return;
        }
        case DType::BF16: {
            const auto* h = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
            return;
        }
        case DType::I32: {
            const auto* v = static_cast<const int32_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(v[i]);
            return;
        }
        case DType::Q4_0: dequantize_q4_0(as<BlockQ4_0>(src), dst, nb); return;
        case DType::Q4_1: dequantize_q4_1(as<BlockQ4_1>(src), dst, nb); return;
        case DType::Q5_0: dequantize_q5_0(as<BlockQ5_0>(src), dst, nb); return;
        case DType::Q5_1: dequantize_q5_1(as<BlockQ5_1>(src), dst, nb); return;
        case DType::Q8_0: dequantize_q8_0(as<BlockQ8_0>(src), dst, nb); return;
        case DType::IQ4_NL: dequantize_iq4_nl(as<BlockIQ4_NL>(src), dst, nb); return;
        case DType::Q2_K: dequantize_q2_k(as<BlockQ2_K>(src), dst, nb); return;
        case DType::Q3_K: dequantize_q3_k(as<BlockQ3_K>(src), dst, nb); return;
        case DType::Q4_K: dequantize_q4_k(as<BlockQ4_K>(src), dst, nb); return;
        case DType::Q5_K: dequantize_q5_k(as<BlockQ5_K>(src), dst, nb); return;
        case DType::Q6_K: dequantize_q6_k(as<BlockQ6_K>(src), dst, nb); return;
        case DType::Q8_K: dequantize_q8_k(as<BlockQ8_K>(src), dst, nb); return;
        default: break;
    }
    throw Error("dequantize_row: dtype " + std::string(dtype_name(t)) + " has no dequantizer");
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
    const int64_t nb = block_count("quantize_row", t, n);
    switch (t) {
        case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
        case DType::F16: {
            auto* h = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(src[i]);
            return;
        }
        case DType::BF16: {
            auto* h = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
            return;
        }
        case DType::I32: {
            auto* v = static_cast<int32_t*>(dst);
            for (int64_t i = 0; i < n; ++i) v[i] = f32_to_i32(src[i]);
            return;
        }
        case DType::Q4_0: quantize_q4_0(src, as<BlockQ4_0>(dst), nb); return;
        case DType::Q4_1: quantize_q4_1(src, as<BlockQ4_1>(dst), nb); return;
        case DType::Q5_0: quantize_q5_0(src, as<BlockQ5_0>(dst), nb); return;
        case DType::Q5_1: quantize_q5_1(src, as<BlockQ5_1>(dst), nb); return;
        case DType::Q8_0: quantize_q8_0(src, as<BlockQ8_0>(dst), nb); return;
        case DType::IQ4_NL: quantize_iq4_nl(src, as<BlockIQ4_NL>(dst), nb); return;
        case DType::Q2_K: quantize_q2_k(src, as<BlockQ2_K>(dst), nb); return;
        case DType::Q3_K: quantize_q3_k(src, as<BlockQ3_K>(dst), nb); return;
        case DType::Q4_K: quantize_q4_k(src, as<BlockQ4_K>(dst), nb); return;
        case DType::Q5_K: quantize_q5_k(src, as<BlockQ5_K>(dst), nb); return;
        case DType::Q6_K: quantize_q6_k(src, as<BlockQ6_K>(dst), nb); return;
        case DType::Q8_K: quantize_q8_k(src, as<BlockQ8_K>(dst), nb); return;
        default: break;
    }
    throw Error("quantize_row: dtype " + std::string(dtype_name(t)) + " has no quantizer");
}

}  // namespace kiln
