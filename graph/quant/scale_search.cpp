#include "graph/quant/scale_search.h"

#include <cmath>
#include <limits>

namespace kiln::quant {
namespace {

// Largest |x| and the signed value that has it.
float signed_absmax(const float* x, int n, float* amax) {
    float best = 0.0f, m = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > best) {
            best = ax;
            m = x[i];
        }
    }
    *amax = best;
    return m;
}

// Least-squares fit of x ~= d*q + b over fixed codes q (b = 0 when the codes are all equal).
// Returns false when no fit with d >= 0 exists. err = the resulting squared error.
struct AffineSums {
    float n, sx, sxx, s1, s2, sxq;
};

bool solve_affine(const AffineSums& s, bool offset_nonpositive, float* d, float* b, float* err) {
    const float det = s.n * s.s2 - s.s1 * s.s1;
    float dd, bb;
    if (det > 0.0f) {
        dd = (s.n * s.sxq - s.s1 * s.sx) / det;
        bb = (s.sx - dd * s.s1) / s.n;
    } else {  // all codes equal: a scale alone fits them
        if (!(s.s2 > 0.0f)) return false;
        dd = s.sxq / s.s2;
        bb = 0.0f;
    }
    if (offset_nonpositive && bb > 0.0f) {
        bb = 0.0f;
        dd = s.sxq / s.s2;
    }
    if (!(dd >= 0.0f)) return false;
    *d = dd;
    *b = bb;
    *err = s.sxx - 2.0f * dd * s.sxq - 2.0f * bb * s.sx + dd * dd * s.s2 + 2.0f * dd * bb * s.s1 +
           s.n * bb * bb;
    return true;
}

}  // namespace

void codes_symmetric(const float* x, int n, float d, int lo, int hi, int8_t* q) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < n; ++i) q[i] = static_cast<int8_t>(round_clamp(x[i] * id, lo, hi));
}

void codes_affine(const float* x, int n, float d, float b, int nmax, uint8_t* q) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < n; ++i) q[i] = static_cast<uint8_t>(round_clamp((x[i] - b) * id, 0, nmax));
}

float fit_symmetric(const float* x, int n, int lo, int hi, int steps, int8_t* q) {
    float amax = 0.0f;
    const float m = signed_absmax(x, n, &amax);
    float best_score = 0.0f, best_d = 0.0f;
    if (amax > 0.0f && std::isfinite(amax)) {
        // Score of a scale = the error it removes, sxq^2/sqq; its best d is sxq/sqq.
        auto try_iscale = [&](float iscale) {
            float sxq = 0.0f, sqq = 0.0f;
            for (int i = 0; i < n; ++i) {
                const float v = static_cast<float>(round_clamp(x[i] * iscale, lo, hi));
                sxq += x[i] * v;
                sqq += v * v;
            }
            if (sqq > 0.0f && sxq * sxq > best_score * sqq) {
                best_score = sxq * sxq / sqq;
                best_d = sxq / sqq;
                return true;
            }
            return false;
        };
        // Candidates put the largest value m on a code near either end of the range.
        for (int k = 0; k <= steps; ++k) {
            const float f = 1.5f * static_cast<float>(k) / static_cast<float>(steps);
            try_iscale((static_cast<float>(lo) - 0.5f + f) / m);
            if (hi != -lo) try_iscale((static_cast<float>(hi) + 0.5f - f) / m);
        }
        // Alternate nearest codes for best_d and the least-squares d of those codes.
        for (int it = 0; it < 4 && best_d != 0.0f; ++it) {
            if (!try_iscale(1.0f / best_d)) break;
        }
    }
    codes_symmetric(x, n, best_d, lo, hi, q);
    return best_d;
}

void fit_affine(const float* x, int n, int nmax, int steps, bool offset_nonpositive, float* d,
                float* b, uint8_t* q) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;  // NaNs never compare: skipped
    AffineSums s{static_cast<float>(n), 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; ++i) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
        s.sx += x[i];
        s.sxx += x[i] * x[i];
    }
    if (offset_nonpositive && mn > 0.0f) mn = 0.0f;
    if (!std::isfinite(mn)) mn = 0.0f;  // all NaN, or -Inf present
    float best_d = 0.0f, best_b = mn, best_err = std::numeric_limits<float>::infinity();
    if (mx > mn && std::isfinite(mx - mn)) {
        auto try_codes = [&](float iscale, float offset) {
            s.s1 = s.s2 = s.sxq = 0.0f;
            for (int i = 0; i < n; ++i) {
                const float v = static_cast<float>(round_clamp((x[i] - offset) * iscale, 0, nmax));
                s.s1 += v;
                s.s2 += v * v;
                s.sxq += x[i] * v;
            }
            float dd, bb, err;
            if (solve_affine(s, offset_nonpositive, &dd, &bb, &err) && err < best_err) {
                best_err = err;
                best_d = dd;
                best_b = bb;
                return true;
            }
            return false;
        };
        // Candidates stretch [mn, mx] over nmax-1 .. nmax+1 code steps.
        const float range = mx - mn;
        for (int k = 0; k <= steps; ++k) {
            const float t = static_cast<float>(nmax) - 1.0f + 2.0f * static_cast<float>(k) / static_cast<float>(steps);
            try_codes(t / range, mn);
        }
        for (int it = 0; it < 4 && best_d > 0.0f; ++it) {
            if (!try_codes(1.0f / best_d, best_b)) break;
        }
    }
    *d = best_d;
    *b = best_b;
    codes_affine(x, n, best_d, best_b, nmax, q);
}

int nearest_grid16(const float* mids, float v) {
    int idx = 0;
    for (int k = 0; k < 15; ++k) idx += v > mids[k] ? 1 : 0;
    return idx;
}

float fit_grid16(const float* x, int n, const float* grid, const float* mids, uint8_t* q) {
    float amax = 0.0f;
    const float m = signed_absmax(x, n, &amax);
    float best_score = 0.0f, best_d = 0.0f;
    if (amax > 0.0f && std::isfinite(amax)) {
        auto try_iscale = [&](float iscale) {
            float sxq = 0.0f, sqq = 0.0f;
            for (int i = 0; i < n; ++i) {
                const float g = grid[nearest_grid16(mids, x[i] * iscale)];
                sxq += x[i] * g;
                sqq += g * g;
            }
            if (sqq > 0.0f && sxq * sxq > best_score * sqq) {
                best_score = sxq * sxq / sqq;
                best_d = sxq / sqq;
                return true;
            }
            return false;
        };
        // The largest value lands near either end of the grid.
        const float lo = grid[0], hi = grid[15];
        const float span = (grid[1] - grid[0]) * 0.6f;
        constexpr int kSteps = 12;
        for (int k = 0; k <= kSteps; ++k) {
            const float f = span * (2.0f * static_cast<float>(k) / kSteps - 1.0f);
            try_iscale((lo + f) / m);
            try_iscale((hi + f) / m);
        }
        for (int it = 0; it < 4 && best_d != 0.0f; ++it) {
            if (!try_iscale(1.0f / best_d)) break;
        }
    }
    const float id = best_d != 0.0f ? 1.0f / best_d : 0.0f;
    for (int i = 0; i < n; ++i) q[i] = static_cast<uint8_t>(nearest_grid16(mids, x[i] * id));
    return best_d;
}

}  // namespace kiln::quant
