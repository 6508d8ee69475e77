// Dequantizers of the K-quants (Q2_K..Q6_K) and Q8_K. Each follows ggml's formula operation for
// operation so results match bit for bit: the sub-block scale is folded into the super-block
// scale first (d * sc), then multiplied by the code, then the min product is subtracted.
#include "graph/quant/half.h"
#include "graph/quant/kquant_scales.h"
#include "graph/quant/quantize.h"

namespace kiln {

void dequantize_q2_k(const BlockQ2_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(x[i].d);
        const float dmin = f16_to_f32(x[i].dmin);
        const uint8_t* q = x[i].qs;
        int s = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part, ++s) {
                    const float dl = d * static_cast<float>(x[i].scales[s] & 15);
                    const float ml = dmin * static_cast<float>(x[i].scales[s] >> 4);
                    for (int l = 0; l < 16; ++l) {
                        *y++ = dl * static_cast<float>((q[16 * part + l] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }
}

void dequantize_q3_k(const BlockQ3_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(x[i].d);
        uint8_t sc[16];
        quant::get_scales_q3_k(x[i].scales, sc);
        const uint8_t* q = x[i].qs;
        int s = 0, bit = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, ++bit) {
                for (int part = 0; part < 2; ++part, ++s) {
                    const float dl = d * static_cast<float>(sc[s] - 32);
                    for (int l = 0; l < 16; ++l) {
                        const int idx = 16 * part + l;
                        const int low = (q[idx] >> shift) & 3;
                        const int v = low - (((x[i].hmask[idx] >> bit) & 1) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
            }
        }
    }
}

void dequantize_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(x[i].d);
        const float dmin = f16_to_f32(x[i].dmin);
        const uint8_t* q = x[i].qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, mn;
            quant::get_scale_min_k4(2 * c, x[i].scales, &sc, &mn);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
            quant::get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &mn);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 15) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantize_q5_k(const BlockQ5_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(x[i].d);
        const float dmin = f16_to_f32(x[i].dmin);
        const uint8_t* q = x[i].qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, mn;
            quant::get_scale_min_k4(2 * c, x[i].scales, &sc, &mn);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
            quant::get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &mn);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
            const int b1 = 2 * c, b2 = 2 * c + 1;
            for (int l = 0; l < 32; ++l) {
                const int v = (q[l] & 15) | (((x[i].qh[l] >> b1) & 1) << 4);
                *y++ = d1 * static_cast<float>(v) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                const int v = (q[l] >> 4) | (((x[i].qh[l] >> b2) & 1) << 4);
                *y++ = d2 * static_cast<float>(v) - m2;
            }
        }
    }
}

void dequantize_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(x[i].d);
        const uint8_t* ql = x[i].ql;
        const uint8_t* qh = x[i].qh;
        const int8_t* sc = x[i].scales;
        for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int s = l / 16;
                const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * static_cast<float>(sc[s]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[s + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[s + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[s + 6]) * static_cast<float>(q4);
            }
        }
    }
}

void dequantize_q8_k(const BlockQ8_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        for (int j = 0; j < kQK_K; ++j) *y++ = x[i].d * static_cast<float>(x[i].qs[j]);
    }
}

}  // namespace kiln
