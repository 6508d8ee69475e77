#include <cmath>

#include "graph/reference/reference.h"

namespace kiln::reference {

float silu(float x) { return static_cast<float>(x / (1.0 + std::exp(-static_cast<double>(x)))); }

float sigmoid(float x) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x)))); }

float gelu(float x) {
    const double c = std::sqrt(2.0 / M_PI);
    const double d = x;
    return static_cast<float>(0.5 * d * (1.0 + std::tanh(c * (d + 0.044715 * d * d * d))));
}

void elementwise(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    const Tensor* b = n.src[1] != kNoTensor ? &g.tensor(n.src[1]) : nullptr;
    for (int64_t i3 = 0; i3 < d.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < d.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < d.ne[1]; ++i1) {
                const uint8_t* ar = row(a, data[n.src[0]], i1, i2, i3);
                // b broadcasts: its index in each dimension wraps around its own size.
                const uint8_t* br = b ? row(*b, data[n.src[1]], i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]) : nullptr;
                auto* out = reinterpret_cast<float*>(row(d, data[n.dst], i1, i2, i3));
                for (int64_t i0 = 0; i0 < d.ne[0]; ++i0) {
                    const float x = load(a.type, ar, i0);
                    const float y = b ? load(b->type, br, i0 % b->ne[0]) : 0.0f;
                    switch (n.op) {
                        case Op::Add: out[i0] = x + y; break;
                        case Op::Mul: out[i0] = x * y; break;
                        case Op::Scale: out[i0] = x * n.params.scale; break;
                        case Op::Silu: out[i0] = silu(x); break;
                        case Op::Gelu: out[i0] = gelu(x); break;
                        case Op::Sigmoid: out[i0] = sigmoid(x); break;
                        case Op::SwiGLU: out[i0] = silu(x) * y; break;
                        default: break;
                    }
                }
            }
}

}  // namespace kiln::reference
