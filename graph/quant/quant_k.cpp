// Quantizers of the K-quants (Q2_K..Q6_K) and Q8_K.
//
// Every K-quant stores 256-element super-blocks: an f16 super-scale (and super-min) and small
// integer scales (and mins) per sub-block. Per super-block we
//   1. fit each sub-block alone (scale_search.h: grid of candidate scales + least squares),
//   2. pick the super-scales so the largest sub-block scale/min uses the top integer code,
//   3. choose each sub-block's integer scale/min from a small neighbourhood of the rounded
//      ideal, re-rounding the codes against the scales exactly as the dequantizer forms them,
//      and keep the combination with the least squared error,
//   4. refit the super-scales by least squares over the chosen integers and repeat 3 while the
//      error drops.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/quant/half.h"
#include "graph/quant/kquant_scales.h"
#include "graph/quant/quantize.h"
#include "graph/quant/scale_search.h"

namespace kiln {
namespace {

using quant::round_clamp;

constexpr int kRefits = 3;  // least-squares refits of the super-scales (step 4)

// y = (D*sc)*q - (M*mn) with q in [0, nmax] and unsigned sc, mn in [0, smax].
struct AffineK {
    int sub;     // elements per sub-block
    int nmax;    // largest code
    int smax;    // largest scale/min code
    int steps;   // candidate scales per sub-block fit
    int radius;  // neighbourhood searched around the rounded integer scale and min
};

struct AffineKResult {
    uint16_t d = 0, dmin = 0;
    uint8_t sc[16] = {}, mn[16] = {};
    uint8_t q[kQK_K] = {};
    float err = std::numeric_limits<float>::infinity();
};

// Step 3 for fixed f16 super-scales.
void choose_affine_k(const float* x, const AffineK& p, const float* sd, const float* sm, uint16_t dh,
                     uint16_t mh, AffineKResult* out) {
    const float D = f16_to_f32(dh), M = f16_to_f32(mh);
    out->d = dh;
    out->dmin = mh;
    out->err = 0.0f;
    const int nsub = kQK_K / p.sub;
    for (int s = 0; s < nsub; ++s) {
        const float* xs = x + s * p.sub;
        const int ls0 = D > 0.0f ? round_clamp(sd[s] / D, 0, p.smax) : 0;
        const int lm0 = M > 0.0f ? round_clamp(sm[s] / M, 0, p.smax) : 0;
        float best = std::numeric_limits<float>::infinity();
        for (int ls = std::max(ls0 - p.radius, 0); ls <= std::min(ls0 + p.radius, p.smax); ++ls) {
            const float dd = D * static_cast<float>(ls);
            const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
            for (int lm = std::max(lm0 - p.radius, 0); lm <= std::min(lm0 + p.radius, p.smax); ++lm) {
                const float mm = M * static_cast<float>(lm);
                float err = 0.0f;
                for (int j = 0; j < p.sub; ++j) {
                    const float v = static_cast<float>(round_clamp((xs[j] + mm) * id, 0, p.nmax));
                    const float e = dd * v - mm - xs[j];
                    err += e * e;
                }
                if (err < best) {
                    best = err;
                    out->sc[s] = static_cast<uint8_t>(ls);
                    out->mn[s] = static_cast<uint8_t>(lm);
                }
            }
        }
        const float dd = D * static_cast<float>(out->sc[s]);
        const float mm = M * static_cast<float>(out->mn[s]);
        const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
        for (int j = 0; j < p.sub; ++j) {
            out->q[s * p.sub + j] = static_cast<uint8_t>(round_clamp((xs[j] + mm) * id, 0, p.nmax));
        }
        out->err += best;
    }
}

void quantize_affine_k(const float* x, const AffineK& p, AffineKResult* best) {
    const int nsub = kQK_K / p.sub;
    float sd[16], sm[16];
    float maxd = 0.0f, maxm = 0.0f;
    for (int s = 0; s < nsub; ++s) {
        uint8_t q[32];
        float b;
        quant::fit_affine(x + s * p.sub, p.sub, p.nmax, p.steps, true, &sd[s], &b, q);
        sm[s] = -b;
        maxd = std::max(maxd, sd[s]);
        maxm = std::max(maxm, sm[s]);
    }
    const float smax = static_cast<float>(p.smax);
    choose_affine_k(x, p, sd, sm, quant::f16_scale(maxd / smax), quant::f16_scale(maxm / smax), best);
    for (int it = 0; it < kRefits; ++it) {
        // Least squares for (D, M) in x ~= D*(sc*q) - M*mn over the chosen integers.
        double A = 0, B = 0, C = 0, P = 0, R = 0;
        for (int s = 0; s < nsub; ++s) {
            const double c = best->mn[s];
            for (int j = 0; j < p.sub; ++j) {
                const double a = static_cast<double>(best->sc[s]) * best->q[s * p.sub + j];
                const double xv = x[s * p.sub + j];
                A += a * a;
                B += a * c;
                C += c * c;
                P += xv * a;
                R += xv * c;
            }
        }
        const double det = A * C - B * B;
        float D, M;
        if (det > 1e-9 * A * C && det > 0) {
            D = static_cast<float>((P * C - R * B) / det);
            M = static_cast<float>((P * B - A * R) / det);
        } else if (A > 0) {
            D = static_cast<float>(P / A);
            M = 0.0f;
        } else {
            break;
        }
        if (!(D >= 0.0f) || !(M >= 0.0f)) break;
        AffineKResult trial;
        choose_affine_k(x, p, sd, sm, quant::f16_scale(D), quant::f16_scale(M), &trial);
        if (!(trial.err < best->err)) break;
        *best = trial;
    }
}

// y = (D*sc)*q with q in [lo, hi] and signed sc in [slo, shi].
struct SymmetricK {
    int lo, hi;
    int slo, shi;
    int steps;
    int radius;
};

struct SymmetricKResult {
    uint16_t d = 0;
    int8_t sc[16] = {};
    int8_t q[kQK_K] = {};
    float err = std::numeric_limits<float>::infinity();
};

constexpr int kSymSub = 16;  // Q3_K and Q6_K both use 16 sub-blocks of 16

void choose_symmetric_k(const float* x, const SymmetricK& p, const float* sd, uint16_t dh,
                        SymmetricKResult* out) {
    const float D = f16_to_f32(dh);
    out->d = dh;
    out->err = 0.0f;
    for (int s = 0; s < kQK_K / kSymSub; ++s) {
        const float* xs = x + s * kSymSub;
        const int ls0 = D != 0.0f ? round_clamp(sd[s] / D, p.slo, p.shi) : 0;
        float best = std::numeric_limits<float>::infinity();
        for (int ls = std::max(ls0 - p.radius, p.slo); ls <= std::min(ls0 + p.radius, p.shi); ++ls) {
            const float dd = D * static_cast<float>(ls);
            const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
            float err = 0.0f;
            for (int j = 0; j < kSymSub; ++j) {
                const float v = static_cast<float>(round_clamp(xs[j] * id, p.lo, p.hi));
                const float e = dd * v - xs[j];
                err += e * e;
            }
            if (err < best) {
                best = err;
                out->sc[s] = static_cast<int8_t>(ls);
            }
        }
        const float dd = D * static_cast<float>(out->sc[s]);
        quant::codes_symmetric(xs, kSymSub, dd, p.lo, p.hi, out->q + s * kSymSub);
        out->err += best;
    }
}

void quantize_symmetric_k(const float* x, const SymmetricK& p, SymmetricKResult* best) {
    float sd[16];
    float amax = 0.0f, m = 0.0f;
    for (int s = 0; s < kQK_K / kSymSub; ++s) {
        int8_t q[kSymSub];
        sd[s] = quant::fit_symmetric(x + s * kSymSub, kSymSub, p.lo, p.hi, p.steps, q);
        if (std::fabs(sd[s]) > amax) {
            amax = std::fabs(sd[s]);
            m = sd[s];
        }
    }
    // The sub-block scale of largest magnitude takes the code slo (the longer side).
    choose_symmetric_k(x, p, sd, quant::f16_scale(m / static_cast<float>(p.slo)), best);
    for (int it = 0; it < kRefits; ++it) {
        double A = 0, P = 0;
        for (int s = 0; s < kQK_K / kSymSub; ++s) {
            for (int j = 0; j < kSymSub; ++j) {
                const double a = static_cast<double>(best->sc[s]) * best->q[s * kSymSub + j];
                A += a * a;
                P += static_cast<double>(x[s * kSymSub + j]) * a;
            }
        }
        if (!(A > 0)) break;
        SymmetricKResult trial;
        choose_symmetric_k(x, p, sd, quant::f16_scale(static_cast<float>(P / A)), &trial);
        if (!(trial.err < best->err)) break;
        *best = trial;
    }
}

constexpr AffineK kQ2K{16, 3, 15, 16, 1};
constexpr AffineK kQ4K{32, 15, 63, 16, 1};
constexpr AffineK kQ5K{32, 31, 63, 16, 1};
constexpr SymmetricK kQ3K{-4, 3, -32, 31, 16, 1};
constexpr SymmetricK kQ6K{-32, 31, -128, 127, 16, 1};

}  // namespace

void quantize_q2_k(const float* x, BlockQ2_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        AffineKResult r;
        quantize_affine_k(x, kQ2K, &r);
        y[i].d = r.d;
        y[i].dmin = r.dmin;
        for (int s = 0; s < 16; ++s) y[i].scales[s] = static_cast<uint8_t>(r.sc[s] | (r.mn[s] << 4));
        for (int h = 0; h < 2; ++h) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t* q = r.q + 128 * h + l;
                y[i].qs[32 * h + l] = static_cast<uint8_t>(q[0] | (q[32] << 2) | (q[64] << 4) | (q[96] << 6));
            }
        }
    }
}

void quantize_q3_k(const float* x, BlockQ3_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        SymmetricKResult r;
        quantize_symmetric_k(x, kQ3K, &r);
        y[i].d = r.d;
        uint8_t sc[16];
        for (int s = 0; s < 16; ++s) sc[s] = static_cast<uint8_t>(r.sc[s] + 32);
        quant::set_scales_q3_k(sc, y[i].scales);
        uint8_t u[kQK_K];
        for (int j = 0; j < kQK_K; ++j) u[j] = static_cast<uint8_t>(r.q[j] + 4);
        for (int l = 0; l < 32; ++l) {
            uint8_t hm = 0;
            for (int k = 0; k < 8; ++k) hm = static_cast<uint8_t>(hm | (((u[32 * k + l] >> 2) & 1) << k));
            y[i].hmask[l] = hm;
        }
        for (int h = 0; h < 2; ++h) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t* q = u + 128 * h + l;
                y[i].qs[32 * h + l] =
                    static_cast<uint8_t>((q[0] & 3) | ((q[32] & 3) << 2) | ((q[64] & 3) << 4) | ((q[96] & 3) << 6));
            }
        }
    }
}

void quantize_q4_k(const float* x, BlockQ4_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        AffineKResult r;
        quantize_affine_k(x, kQ4K, &r);
        y[i].d = r.d;
        y[i].dmin = r.dmin;
        quant::set_scale_min_k4(r.sc, r.mn, y[i].scales);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                y[i].qs[32 * c + l] = static_cast<uint8_t>(r.q[64 * c + l] | (r.q[64 * c + 32 + l] << 4));
            }
        }
    }
}

void quantize_q5_k(const float* x, BlockQ5_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        AffineKResult r;
        quantize_affine_k(x, kQ5K, &r);
        y[i].d = r.d;
        y[i].dmin = r.dmin;
        quant::set_scale_min_k4(r.sc, r.mn, y[i].scales);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int lo = r.q[64 * c + l], hi = r.q[64 * c + 32 + l];
                y[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
            }
        }
        for (int l = 0; l < 32; ++l) {
            uint8_t h = 0;
            for (int s = 0; s < 8; ++s) h = static_cast<uint8_t>(h | (((r.q[32 * s + l] >> 4) & 1) << s));
            y[i].qh[l] = h;
        }
    }
}

void quantize_q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        SymmetricKResult r;
        quantize_symmetric_k(x, kQ6K, &r);
        y[i].d = r.d;
        for (int s = 0; s < 16; ++s) y[i].scales[s] = r.sc[s];
        for (int h = 0; h < 2; ++h) {
            for (int l = 0; l < 32; ++l) {
                int u[4];
                for (int k = 0; k < 4; ++k) u[k] = r.q[128 * h + 32 * k + l] + 32;
                y[i].ql[64 * h + l] = static_cast<uint8_t>((u[0] & 15) | ((u[2] & 15) << 4));
                y[i].ql[64 * h + 32 + l] = static_cast<uint8_t>((u[1] & 15) | ((u[3] & 15) << 4));
                y[i].qh[32 * h + l] =
                    static_cast<uint8_t>((u[0] >> 4) | ((u[1] >> 4) << 2) | ((u[2] >> 4) << 4) | ((u[3] >> 4) << 6));
            }
        }
    }
}

void quantize_q8_k(const float* x, BlockQ8_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
        float amax = 0.0f;
        for (int j = 0; j < kQK_K; ++j) amax = std::max(amax, std::fabs(x[j]));
        const bool usable = amax > 0.0f && std::isfinite(amax);
        const float iscale = usable ? 127.0f / amax : 0.0f;
        y[i].d = usable ? amax / 127.0f : 0.0f;
        for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(round_clamp(x[j] * iscale, -127, 127));
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += y[i].qs[16 * g + j];
            y[i].bsums[g] = static_cast<int16_t>(sum);
        }
    }
}

}  // namespace kiln
