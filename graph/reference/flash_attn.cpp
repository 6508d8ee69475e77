#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "graph/reference/reference.h"

namespace kiln::reference {

// out[:, h, t] = sum_j softmax_j(scale * q[:, h, t] . k[:, hk, j]) v[:, hk, j], where the KV
// head hk = h / (query heads per KV head) and, when causal, only keys j <= pos[t] count.
// Keys are also bounded by the K tensor's length, and with a sliding window of w only keys
// j > pos[t] - w count. A query that sees no key yields zeros.
void flash_attn(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& q = g.tensor(n.src[0]);
    const Tensor& k = g.tensor(n.src[1]);
    const Tensor& v = g.tensor(n.src[2]);
    const Tensor& o = g.tensor(n.dst);
    const auto* pos = reinterpret_cast<const int32_t*>(data[n.src[3]]);
    const int64_t d = q.ne[0], dv = v.ne[0], n_kv = k.ne[2];
    const int64_t group = q.ne[1] / k.ne[1];
    std::vector<double> scores(static_cast<size_t>(n_kv));
    std::vector<double> acc(static_cast<size_t>(dv));
    for (int64_t t = 0; t < q.ne[2]; ++t) {
        int64_t visible = n_kv, first = 0;
        if (n.params.causal) visible = std::clamp<int64_t>(static_cast<int64_t>(pos[t]) + 1, 0, n_kv);
        if (n.params.window > 0) first = std::max<int64_t>(0, static_cast<int64_t>(pos[t]) - n.params.window + 1);
        for (int64_t h = 0; h < q.ne[1]; ++h) {
            const int64_t hk = h / group;
            const uint8_t* qr = row(q, data[n.src[0]], h, t);
            double mx = -std::numeric_limits<double>::infinity();
            for (int64_t j = first; j < visible; ++j) {
                const uint8_t* kr = row(k, data[n.src[1]], hk, j);
                double dot = 0;
                for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(load(q.type, qr, i)) * load(k.type, kr, i);
                scores[j] = dot * n.params.scale;
                mx = std::max(mx, scores[j]);
            }
            std::fill(acc.begin(), acc.end(), 0.0);
            double sum = 0;
            for (int64_t j = first; j < visible; ++j) {
                const double p = std::exp(scores[j] - mx);
                sum += p;
                const uint8_t* vr = row(v, data[n.src[2]], hk, j);
                for (int64_t i = 0; i < dv; ++i) acc[i] += p * load(v.type, vr, i);
            }
            auto* out = reinterpret_cast<float*>(row(o, data[n.dst], h, t));
            for (int64_t i = 0; i < dv; ++i) out[i] = sum > 0 ? static_cast<float>(acc[i] / sum) : 0.0f;
        }
    }
}

}  // namespace kiln::reference
