// Row normalisations: rms_norm, norm (layer norm without affine) and softmax with an optional
// mask. Threads split the rows; sums use kW-wide partial sums.
#include <cmath>

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

float sum_sq(const float* x, int64_t n, float mean) {
    FV acc = fv_zero();
    const FV nm = fv_set(-mean);
    int64_t i = 0;
    for (; i + kW <= n; i += kW) {
        const FV v = fv_add(fv_load(x + i), nm);
        acc = fv_fma(v, v, acc);
    }
    float s = fv_sum(acc);
    for (; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
    return s;
}

float sum(const float* x, int64_t n) {
    FV acc = fv_zero();
    int64_t i = 0;
    for (; i + kW <= n; i += kW) acc = fv_add(acc, fv_load(x + i));
    float s = fv_sum(acc);
    for (; i < n; ++i) s += x[i];
    return s;
}

template <bool rms>
void normalize(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    float* buf = thread_scratch(a);
    const int64_t n = A.ne[0];
    const float eps = a.node->params.eps;
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const float* x = floats(A.type, flat_row(A, src_data(a, 0), row), n, buf);
        auto* out = reinterpret_cast<float*>(flat_row(D, dst_data(a), row));
        const float mean = rms ? 0.0f : sum(x, n) / static_cast<float>(n);
        const float s = 1.0f / sqrtf(sum_sq(x, n, mean) / static_cast<float>(n) + eps);
        for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - mean) * s;
    }
}

}  // namespace

void rms_norm(const CpuKernelArgs& a) { normalize<true>(a); }
void norm(const CpuKernelArgs& a) { normalize<false>(a); }

void softmax(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    const Tensor* M = a.node->src[1] != kNoTensor ? &src(a, 1) : nullptr;
    float* buf = thread_scratch(a);
    const int64_t n = A.ne[0];
    const float scale = a.node->params.scale;
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const int64_t i1 = row % A.ne[1];
        const float* x = floats(A.type, flat_row(A, src_data(a, 0), row), n, buf);
        const float* m = M ? floats(M->type, row_ptr(*M, src_data(a, 1), i1 % M->ne[1]), n, buf + n) : nullptr;
        auto* out = reinterpret_cast<float*>(flat_row(D, dst_data(a), row));
        float mx = -INFINITY;
        for (int64_t i = 0; i < n; ++i) {
            out[i] = x[i] * scale + (m ? m[i] : 0.0f);
            mx = fmaxf_(mx, out[i]);
        }
        if (mx == -INFINITY) {  // every key masked: zeros, as the reference
            for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
            continue;
        }
        // e^(out - mx) in vectors (fv_exp); the tail through a padded vector whose extra lanes are 0.
        const FV mv = fv_set(mx);
        FV sv = fv_zero();
        int64_t i = 0;
        for (; i + kW <= n; i += kW) {
            const FV e = fv_exp(fv_sub(fv_load(out + i), mv));
            fv_store(out + i, e);
            sv = fv_add(sv, e);
        }
        if (i < n) {
            float t[kW];
            for (int j = 0; j < kW; ++j) t[j] = i + j < n ? out[i + j] : -INFINITY;
            const FV e = fv_exp(fv_sub(fv_load(t), mv));
            fv_store(t, e);
            sv = fv_add(sv, e);
            for (int64_t j = i; j < n; ++j) out[j] = t[j - i];
        }
        const float s = fv_sum(sv);
        const float inv = s > 0 ? 1.0f / s : 0.0f;
        for (int64_t i = 0; i < n; ++i) out[i] *= inv;
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
