#include <algorithm>
#include <vector>

#include "graph/quant/quantize.h"
#include "graph/reference/reference.h"

namespace kiln::reference {

// y[n, m] = sum_k w[k, n] * x[k, m]: each weight row is dequantized with the reference
// dequantizer, activations are used as floats, sums are double.
void matmul(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const Tensor& y = g.tensor(n.dst);
    const int64_t k = w.ne[0];
    std::vector<float> wrow(static_cast<size_t>(k));
    std::vector<float> xrow(static_cast<size_t>(k));
    for (int64_t i3 = 0; i3 < x.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < x.ne[2]; ++i2)
            for (int64_t m = 0; m < x.ne[1]; ++m) {
                const uint8_t* xr = row(x, data[n.src[1]], m, i2, i3);
                for (int64_t i = 0; i < k; ++i) xrow[i] = load(x.type, xr, i);
                auto* out = reinterpret_cast<float*>(row(y, data[n.dst], m, i2, i3));
                for (int64_t j = 0; j < w.ne[1]; ++j) {
                    dequantize_row(w.type, row(w, data[n.src[0]], j), wrow.data(), k);
                    double sum = 0;
                    for (int64_t i = 0; i < k; ++i) sum += static_cast<double>(wrow[i]) * xrow[i];
                    out[j] = static_cast<float>(sum);
                }
            }
}

// y[n, i, t] = w_e[k, n]^T x[k, i or 0, t] with e = ids[i, t]: the matmul's reference for one
// expert per column; ids outside the experts give zero columns.
void mul_mat_id(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& w = g.tensor(n.src[0]);
    const Tensor& x = g.tensor(n.src[1]);
    const Tensor& ids = g.tensor(n.src[2]);
    const Tensor& y = g.tensor(n.dst);
    const int64_t k = w.ne[0];
    const auto* id = reinterpret_cast<const int32_t*>(data[n.src[2]]);
    std::vector<float> wrow(static_cast<size_t>(k));
    std::vector<float> xrow(static_cast<size_t>(k));
    for (int64_t t = 0; t < ids.ne[1]; ++t)
        for (int64_t i = 0; i < ids.ne[0]; ++i) {
            const int32_t e = id[t * ids.ne[0] + i];
            auto* out = reinterpret_cast<float*>(row(y, data[n.dst], i, t));
            if (e < 0 || e >= w.ne[2]) {
                std::fill(out, out + y.ne[0], 0.0f);
                continue;
            }
            const uint8_t* xr = row(x, data[n.src[1]], x.ne[1] == 1 ? 0 : i, t);
            for (int64_t j = 0; j < k; ++j) xrow[j] = load(x.type, xr, j);
            for (int64_t r = 0; r < w.ne[1]; ++r) {
                dequantize_row(w.type, row(w, data[n.src[0]], r, e), wrow.data(), k);
                double sum = 0;
                for (int64_t j = 0; j < k; ++j) sum += static_cast<double>(wrow[j]) * xrow[j];
                out[r] = static_cast<float>(sum);
            }
        }
}

}  // namespace kiln::reference
