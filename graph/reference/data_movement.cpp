#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "graph/quant/quantize.h"
#include "graph/reference/reference.h"

namespace kiln::reference {
namespace {

// Logical element i of a tensor, in order i0 fastest.
float load_flat(const Tensor& t, uint8_t* base, int64_t i) {
    const int64_t i0 = i % t.ne[0];
    int64_t r = i / t.ne[0];
    const int64_t i1 = r % t.ne[1];
    r /= t.ne[1];
    const int64_t i2 = r % t.ne[2];
    const int64_t i3 = r / t.ne[2];
    return load(t.type, row(t, base, i1, i2, i3), i0);
}

// Writes one row of floats into a row of any computable dtype.
void store_row(DType type, const float* src, uint8_t* dst, int64_t n) { quantize_row(type, src, dst, n); }

}  // namespace

void data_movement(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    switch (n.op) {
        case Op::GetRows: {
            const Tensor& ids = g.tensor(n.src[1]);
            const auto* id = reinterpret_cast<const int32_t*>(data[n.src[1]]);
            for (int64_t b = 0; b < ids.ne[1]; ++b) {
                for (int64_t i = 0; i < ids.ne[0]; ++i) {
                    const int32_t r = id[b * ids.ne[0] + i];
                    auto* out = reinterpret_cast<float*>(row(d, data[n.dst], i, b));
                    if (r < 0 || r >= a.ne[1]) {  // the host validates ids; never read out of bounds
                        std::memset(out, 0, static_cast<size_t>(d.ne[0]) * sizeof(float));
                        continue;
                    }
                    dequantize_row(a.type, row(a, data[n.src[0]], r, b), out, a.ne[0]);
                }
            }
            return;
        }
        case Op::Copy: {
            std::vector<float> buf(static_cast<size_t>(d.ne[0]));
            int64_t flat = 0;
            for (int64_t i3 = 0; i3 < d.ne[3]; ++i3)
                for (int64_t i2 = 0; i2 < d.ne[2]; ++i2)
                    for (int64_t i1 = 0; i1 < d.ne[1]; ++i1) {
                        for (int64_t i0 = 0; i0 < d.ne[0]; ++i0) buf[i0] = load_flat(a, data[n.src[0]], flat++);
                        store_row(d.type, buf.data(), row(d, data[n.dst], i1, i2, i3), d.ne[0]);
                    }
            return;
        }
        case Op::SetRows: {
            const Tensor& ids = g.tensor(n.src[1]);
            const auto* id = reinterpret_cast<const int32_t*>(data[n.src[1]]);
            std::vector<float> buf(static_cast<size_t>(a.ne[0]));
            for (int64_t i = 0; i < ids.ne[0]; ++i) {
                if (id[i] < 0 || id[i] >= d.ne[1]) continue;  // out of range: nothing is written
                const uint8_t* src = row(a, data[n.src[0]], i);
                for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) buf[i0] = load(a.type, src, i0);
                store_row(d.type, buf.data(), row(d, data[n.dst], id[i]), a.ne[0]);
            }
            return;
        }
        case Op::Concat: {
            const Tensor& b = g.tensor(n.src[1]);
            const int dim = n.params.dim;
            for (int64_t i3 = 0; i3 < d.ne[3]; ++i3)
                for (int64_t i2 = 0; i2 < d.ne[2]; ++i2)
                    for (int64_t i1 = 0; i1 < d.ne[1]; ++i1) {
                        auto* out = reinterpret_cast<float*>(row(d, data[n.dst], i1, i2, i3));
                        for (int64_t i0 = 0; i0 < d.ne[0]; ++i0) {
                            std::array<int64_t, 4> idx{i0, i1, i2, i3};
                            const bool from_a = idx[dim] < a.ne[dim];
                            if (!from_a) idx[dim] -= a.ne[dim];
                            const Tensor& s = from_a ? a : b;
                            const uint8_t* sr = row(s, data[n.src[from_a ? 0 : 1]], idx[1], idx[2], idx[3]);
                            out[i0] = load(s.type, sr, idx[0]);
                        }
                    }
            return;
        }
        case Op::Argmax: {
            for (int64_t i3 = 0; i3 < a.ne[3]; ++i3)
                for (int64_t i2 = 0; i2 < a.ne[2]; ++i2)
                    for (int64_t i1 = 0; i1 < a.ne[1]; ++i1) {
                        const auto* x = reinterpret_cast<const float*>(row(a, data[n.src[0]], i1, i2, i3));
                        int32_t best = 0;
                        for (int64_t i = 1; i < a.ne[0]; ++i) {
                            if (x[i] > x[best]) best = static_cast<int32_t>(i);  // first maximum wins ties
                        }
                        *reinterpret_cast<int32_t*>(row(d, data[n.dst], i1, i2, i3)) = best;
                    }
            return;
        }
        case Op::TopK: {
            const int64_t k = n.params.k;
            std::vector<int32_t> order(static_cast<size_t>(a.ne[0]));
            for (int64_t i3 = 0; i3 < a.ne[3]; ++i3)
                for (int64_t i2 = 0; i2 < a.ne[2]; ++i2)
                    for (int64_t i1 = 0; i1 < a.ne[1]; ++i1) {
                        const auto* x = reinterpret_cast<const float*>(row(a, data[n.src[0]], i1, i2, i3));
                        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
                        std::stable_sort(order.begin(), order.end(), [&](int32_t l, int32_t r) {
                            if (std::isnan(x[r])) return !std::isnan(x[l]);  // NaN ranks last
                            return !std::isnan(x[l]) && x[l] > x[r];
                        });
                        auto* out = reinterpret_cast<int32_t*>(row(d, data[n.dst], i1, i2, i3));
                        std::copy(order.begin(), order.begin() + k, out);
                    }
            return;
        }
        default: return;
    }
}

}  // namespace kiln::reference
