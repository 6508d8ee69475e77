#include <cmath>
#include <limits>
#include <vector>

#include "graph/reference/reference.h"

namespace kiln::reference {

void norms(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    const Tensor* mask = n.src[1] != kNoTensor ? &g.tensor(n.src[1]) : nullptr;
    const int64_t cols = a.ne[0];
    std::vector<double> x(static_cast<size_t>(cols));
    for (int64_t i3 = 0; i3 < a.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < a.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < a.ne[1]; ++i1) {
                const uint8_t* ar = row(a, data[n.src[0]], i1, i2, i3);
                auto* out = reinterpret_cast<float*>(row(d, data[n.dst], i1, i2, i3));
                for (int64_t i = 0; i < cols; ++i) x[i] = load(a.type, ar, i);
                if (n.op == Op::RmsNorm) {
                    double ss = 0;
                    for (double v : x) ss += v * v;
                    const double s = 1.0 / std::sqrt(ss / cols + n.params.eps);
                    for (int64_t i = 0; i < cols; ++i) out[i] = static_cast<float>(x[i] * s);
                } else if (n.op == Op::Norm) {
                    double mean = 0;
                    for (double v : x) mean += v;
                    mean /= cols;
                    double var = 0;
                    for (double v : x) var += (v - mean) * (v - mean);
                    const double s = 1.0 / std::sqrt(var / cols + n.params.eps);
                    for (int64_t i = 0; i < cols; ++i) out[i] = static_cast<float>((x[i] - mean) * s);
                } else {  // softmax(x * scale + mask)
                    const uint8_t* mr = mask ? row(*mask, data[n.src[1]], i1 % mask->ne[1]) : nullptr;
                    double mx = -std::numeric_limits<double>::infinity();
                    for (int64_t i = 0; i < cols; ++i) {
                        x[i] = x[i] * n.params.scale + (mr ? load(mask->type, mr, i) : 0.0f);
                        mx = std::max(mx, x[i]);
                    }
                    double sum = 0;
                    for (int64_t i = 0; i < cols; ++i) {
                        x[i] = mx == -std::numeric_limits<double>::infinity() ? 0.0 : std::exp(x[i] - mx);
                        sum += x[i];
                    }
                    for (int64_t i = 0; i < cols; ++i) out[i] = sum > 0 ? static_cast<float>(x[i] / sum) : 0.0f;
                }
            }
}

}  // namespace kiln::reference
