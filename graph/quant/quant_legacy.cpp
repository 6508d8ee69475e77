// The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL.
// Dequantizers follow ggml's formulas operation for operation (bit-exact results); quantizers
// search scales with scale_search.h and then re-round codes against the stored f16 scales.
#include <cstring>

#include "graph/quant/half.h"
#include "graph/quant/quantize.h"
#include "graph/quant/scale_search.h"

namespace kiln {
namespace {

constexpr int kHalf = kQK / 2;
constexpr int kSteps = 16;  // candidate scales per side of the symmetric/affine searches

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void store_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Packs 32 four-bit codes: element j in the low nibble of byte j, element j+16 in the high one.
void pack_nibbles(const uint8_t* codes, uint8_t* qs) {
    for (int j = 0; j < kHalf; ++j) qs[j] = static_cast<uint8_t>((codes[j] & 15) | ((codes[j + kHalf] & 15) << 4));
}

// Bit 4 of the 32 five-bit codes as the little-endian u32 qh.
uint32_t high_bits(const uint8_t* codes) {
    uint32_t qh = 0;
    for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>((codes[j] >> 4) & 1) << j;
    return qh;
}

// Symmetric block quantization: d (f16) and codes shifted by `bias` into unsigned range.
uint16_t quantize_symmetric(const float* x, int lo, int hi, uint8_t* codes) {
    int8_t q[kQK];
    const float d = quant::fit_symmetric(x, kQK, lo, hi, kSteps, q);
    const uint16_t dh = quant::f16_scale(d);
    quant::codes_symmetric(x, kQK, f16_to_f32(dh), lo, hi, q);
    for (int j = 0; j < kQK; ++j) codes[j] = static_cast<uint8_t>(q[j] - lo);
    return dh;
}

// Affine block quantization: d and m (f16) with codes in [0, nmax].
void quantize_affine(const float* x, int nmax, uint16_t* dh, uint16_t* mh, uint8_t* codes) {
    float d, b;
    quant::fit_affine(x, kQK, nmax, kSteps, false, &d, &b, codes);
    *dh = quant::f16_scale(d);
    *mh = quant::f16_scale(b);
    quant::codes_affine(x, kQK, f16_to_f32(*dh), f16_to_f32(*mh), nmax, codes);
}

struct IQ4Grid {
    float values[16];
    float mids[15];
};

constexpr IQ4Grid make_iq4_grid() {
    IQ4Grid g{};
    for (int k = 0; k < 16; ++k) g.values[k] = static_cast<float>(kIQ4NLValues[k]);
    for (int k = 0; k < 15; ++k) g.mids[k] = 0.5f * (g.values[k] + g.values[k + 1]);
    return g;
}

constexpr IQ4Grid kIQ4Grid = make_iq4_grid();

}  // namespace

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        for (int j = 0; j < kHalf; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 15) - 8) * d;
            y[j + kHalf] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        const float m = f16_to_f32(x[i].m);
        for (int j = 0; j < kHalf; ++j) {
            y[j] = static_cast<float>(x[i].qs[j] & 15) * d + m;
            y[j + kHalf] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < kHalf; ++j) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + kHalf)) & 1) << 4;
            y[j] = static_cast<float>(((x[i].qs[j] & 15) | h0) - 16) * d;
            y[j + kHalf] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        const float m = f16_to_f32(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < kHalf; ++j) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + kHalf)) & 1) << 4;
            y[j] = static_cast<float>((x[i].qs[j] & 15) | h0) * d + m;
            y[j + kHalf] = static_cast<float>((x[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_iq4_nl(const BlockIQ4_NL* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK) {
        const float d = f16_to_f32(x[i].d);
        for (int j = 0; j < kHalf; ++j) {
            y[j] = d * static_cast<float>(kIQ4NLValues[x[i].qs[j] & 15]);
            y[j + kHalf] = d * static_cast<float>(kIQ4NLValues[x[i].qs[j] >> 4]);
        }
    }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        uint8_t codes[kQK];
        y[i].d = quantize_symmetric(x, -8, 7, codes);
        pack_nibbles(codes, y[i].qs);
    }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        uint8_t codes[kQK];
        quantize_affine(x, 15, &y[i].d, &y[i].m, codes);
        pack_nibbles(codes, y[i].qs);
    }
}

void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        uint8_t codes[kQK];
        y[i].d = quantize_symmetric(x, -16, 15, codes);
        pack_nibbles(codes, y[i].qs);
        store_u32(y[i].qh, high_bits(codes));
    }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        uint8_t codes[kQK];
        quantize_affine(x, 31, &y[i].d, &y[i].m, codes);
        pack_nibbles(codes, y[i].qs);
        store_u32(y[i].qh, high_bits(codes));
    }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        int8_t q[kQK];
        // Codes stay in [-127, 127] so kernels may negate them.
        const float d = quant::fit_symmetric(x, kQK, -127, 127, kSteps, q);
        y[i].d = quant::f16_scale(d);
        quant::codes_symmetric(x, kQK, f16_to_f32(y[i].d), -127, 127, y[i].qs);
    }
}

void quantize_iq4_nl(const float* x, BlockIQ4_NL* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK) {
        uint8_t codes[kQK];
        const float d = quant::fit_grid16(x, kQK, kIQ4Grid.values, kIQ4Grid.mids, codes);
        y[i].d = quant::f16_scale(d);
        const float df = f16_to_f32(y[i].d);
        const float id = df != 0.0f ? 1.0f / df : 0.0f;
        for (int j = 0; j < kQK; ++j) codes[j] = static_cast<uint8_t>(quant::nearest_grid16(kIQ4Grid.mids, x[j] * id));
        pack_nibbles(codes, y[i].qs);
    }
}

}  // namespace kiln
