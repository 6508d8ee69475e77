#include <cmath>
#include <cstring>

#include "graph/reference/reference.h"

namespace kiln::reference {

// Rotates pairs of the first n_dims values of each head by pos * freq_scale * base^(-2i/n_dims).
// Normal mode pairs neighbours (2i, 2i+1); NeoX mode pairs halves (i, i + n_dims/2). With a
// frequency-factor input, pair i's angle is divided by factors[i].
void rope(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& x = g.tensor(n.src[0]);
    const Tensor& p = g.tensor(n.src[1]);
    const Tensor& y = g.tensor(n.dst);
    const RopeParams& rp = n.params.rope;
    const auto* pos = reinterpret_cast<const int32_t*>(data[n.src[1]]);
    const auto* factors = n.src[2] != kNoTensor ? reinterpret_cast<const float*>(data[n.src[2]]) : nullptr;
    (void)p;
    const int64_t half = rp.n_dims / 2;
    for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
        for (int64_t t = 0; t < x.ne[2]; ++t)
            for (int64_t h = 0; h < x.ne[1]; ++h) {
                const auto* in = reinterpret_cast<const float*>(row(x, data[n.src[0]], h, t, i3));
                auto* out = reinterpret_cast<float*>(row(y, data[n.dst], h, t, i3));
                std::memmove(out, in, static_cast<size_t>(x.ne[0]) * sizeof(float));
                for (int64_t i = 0; i < half; ++i) {
                    double theta = static_cast<double>(pos[t]) * rp.freq_scale *
                                   std::pow(static_cast<double>(rp.freq_base), -2.0 * i / rp.n_dims);
                    if (factors) theta /= factors[i];
                    const double c = std::cos(theta), s = std::sin(theta);
                    const int64_t a = rp.mode == RopeMode::Normal ? 2 * i : i;
                    const int64_t b = rp.mode == RopeMode::Normal ? 2 * i + 1 : i + half;
                    const double x0 = in[a], x1 = in[b];
                    out[a] = static_cast<float>(x0 * c - x1 * s);
                    out[b] = static_cast<float>(x0 * s + x1 * c);
                }
            }
}

}  // namespace kiln::reference
