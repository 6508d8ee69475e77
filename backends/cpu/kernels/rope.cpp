// Rotary position embedding. Threads split the rows (head h of token t); a thread computes the
// cos/sin of its current token once and applies them to every head of that token. Dimensions
// past n_dims pass through.
// The angles are computed in float the way llama.cpp does (theta starts at the position and is
// multiplied by base^(-2/n_dims) once per pair), not in double like the reference: the angles
// differ from exact ones by a few ulps, and matching llama.cpp's ulps keeps 8-bit activation
// codes of quantized models from flipping where they would otherwise sit on a rounding edge.
#include <cmath>

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {

void rope(const CpuKernelArgs& a) {
    const Tensor& X = src(a, 0);
    const Tensor& D = dst(a);
    const RopeParams& p = a.node->params.rope;
    const auto* pos = reinterpret_cast<const int32_t*>(src_data(a, 1));
    // Frequency factors (Llama 3.1's rope_freqs) divide each pair's angle, as in the reference.
    const auto* factors = a.node->src[2] != kNoTensor ? reinterpret_cast<const float*>(src_data(a, 2)) : nullptr;
    const int64_t half = p.n_dims / 2, n = X.ne[0];
    auto* cs = thread_scratch(a);
    float* sn = cs + half;
    const float theta_scale = powf(p.freq_base, -2.0f / static_cast<float>(p.n_dims));
    const Range r = share(X.n_rows(), a.ith, a.nth);
    int64_t cached_t = -1;
    for (int64_t row = r.begin; row < r.end; ++row) {
        const int64_t h = row % X.ne[1], t = (row / X.ne[1]) % X.ne[2], i3 = row / (X.ne[1] * X.ne[2]);
        if (t != cached_t) {
            cached_t = t;
            float theta = static_cast<float>(pos[t]);
            for (int64_t i = 0; i < half; ++i) {
                const float angle = p.freq_scale * (factors ? theta / factors[i] : theta);
                cs[i] = cosf(angle);
                sn[i] = sinf(angle);
                theta *= theta_scale;
            }
        }
        const auto* in = reinterpret_cast<const float*>(row_ptr(X, src_data(a, 0), h, t, i3));
        auto* out = reinterpret_cast<float*>(row_ptr(D, dst_data(a), h, t, i3));
        if (p.mode == RopeMode::Normal) {
            for (int64_t i = 0; i < half; ++i) {
                const float x0 = in[2 * i], x1 = in[2 * i + 1];
                out[2 * i] = x0 * cs[i] - x1 * sn[i];
                out[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
            }
        } else {
            for (int64_t i = 0; i < half; ++i) {
                const float x0 = in[i], x1 = in[i + half];
                out[i] = x0 * cs[i] - x1 * sn[i];
                out[i + half] = x0 * sn[i] + x1 * cs[i];
            }
        }
        for (int64_t i = p.n_dims; i < n; ++i) out[i] = in[i];
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
