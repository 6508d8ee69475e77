#pragma once
// Internal to graph/quant: least-squares searches for the scale (and offset) of one small block
// of values against an integer or tabulated code grid. All minimise the plain squared error.
#include <cstdint>

#include "graph/quant/half.h"

namespace kiln::quant {

// Rounds v to the nearest integer (ties to even) after clamping it to [lo, hi]; NaN gives lo.
inline int round_clamp(float v, int lo, int hi) {
    if (!(v >= static_cast<float>(lo))) return lo;
    if (v > static_cast<float>(hi)) return hi;
    const float r = (v + 12582912.0f) - 12582912.0f;  // 1.5 * 2^23: rounds to an integer
    return static_cast<int>(r);
}

// f16 bit pattern of a scale, saturated to the largest finite f16 so no block decodes to Inf.
inline uint16_t f16_scale(float v) {
    constexpr float kMax = 65504.0f;
    if (v > kMax) v = kMax;
    if (v < -kMax) v = -kMax;
    return f32_to_f16(v);
}

// x ~= d * q with integer q in [lo, hi] (lo < 0 < hi). Returns d (its sign is free) and writes
// q. `steps` sets how many candidate scales are tried per side.
float fit_symmetric(const float* x, int n, int lo, int hi, int steps, int8_t* q);

// x ~= d * q + b with integer q in [0, nmax] and d >= 0. With `offset_nonpositive`, b <= 0
// (the K-quants store -b as an unsigned min). Writes d, b and q.
void fit_affine(const float* x, int n, int nmax, int steps, bool offset_nonpositive, float* d,
                float* b, uint8_t* q);

// Nearest entry of a sorted 16-value grid to v (index 0..15).
int nearest_grid16(const float* mids, float v);

// x ~= d * grid[q] with q in 0..15 for a sorted grid (midpoints `mids`, 15 values). Returns d.
float fit_grid16(const float* x, int n, const float* grid, const float* mids, uint8_t* q);

// Codes for a fixed scale and offset: q = round_clamp((x - b) / d); all 0 when d == 0.
void codes_symmetric(const float* x, int n, float d, int lo, int hi, int8_t* q);
void codes_affine(const float* x, int n, float d, float b, int nmax, uint8_t* q);

}  // namespace kiln::quant
