#pragma once
// Scalar reference conversion of rows between f32 and every computable dtype (see dtype.h):
// f32, f16, bf16, i32, the legacy block types Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/IQ4_NL and the K-quants
// Q2_K..Q6_K plus Q8_K. Dequantizers reproduce ggml's floats bit for bit. Quantizers are kiln's
// own: per block they search scales (and mins) minimising the squared error, then re-round codes
// against the scales as stored. Backends use these as the ground truth for their fast kernels.
#include <cstdint>

#include "graph/dtype.h"
#include "graph/quant/blocks.h"

namespace kiln {

// `n` elements. n must be a multiple of info(t).block_size; throws kiln::Error naming the dtype
// and n otherwise, or when t is not computable. I32 converts values (int <-> float, rounding
// to nearest even and saturating; NaN becomes 0).
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
void quantize_row(DType t, const float* src, void* dst, int64_t n);

// Per-type entry points; `nb` is the number of blocks. They do not validate and never throw.
void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t nb);
void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t nb);
void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t nb);
void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t nb);
void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t nb);
void dequantize_iq4_nl(const BlockIQ4_NL* x, float* y, int64_t nb);
void dequantize_q2_k(const BlockQ2_K* x, float* y, int64_t nb);
void dequantize_q3_k(const BlockQ3_K* x, float* y, int64_t nb);
void dequantize_q4_k(const BlockQ4_K* x, float* y, int64_t nb);
void dequantize_q5_k(const BlockQ5_K* x, float* y, int64_t nb);
void dequantize_q6_k(const BlockQ6_K* x, float* y, int64_t nb);
void dequantize_q8_k(const BlockQ8_K* x, float* y, int64_t nb);

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb);
void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t nb);
void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t nb);
void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t nb);
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb);
void quantize_iq4_nl(const float* x, BlockIQ4_NL* y, int64_t nb);
void quantize_q2_k(const float* x, BlockQ2_K* y, int64_t nb);
void quantize_q3_k(const float* x, BlockQ3_K* y, int64_t nb);
void quantize_q4_k(const float* x, BlockQ4_K* y, int64_t nb);
void quantize_q5_k(const float* x, BlockQ5_K* y, int64_t nb);
void quantize_q6_k(const float* x, BlockQ6_K* y, int64_t nb);
// Q8_K: d = max|x| / 127 (f32), q = round(x / d) in [-127, 127] (symmetric, so a kernel may
// negate codes freely), bsums = sums of 16 codes.
void quantize_q8_k(const float* x, BlockQ8_K* y, int64_t nb);

}  // namespace kiln
