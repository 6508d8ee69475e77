#include "apps/profile_cost.h"

namespace kiln {

NodeCost node_cost(const Graph& g, const Node& n) {
    const Tensor& dst = g.tensor(n.dst);
    NodeCost c;
    for (TensorId s : n.src) {
        if (s != kNoTensor) c.bytes += g.tensor(s).n_bytes();
    }
    c.bytes += dst.n_bytes();
    const auto elements = static_cast<double>(dst.n_elements());
    switch (n.op) {
        case Op::GetRows: {
            // Only the gathered rows of the table are read, not the whole table.
            const Tensor& table = g.tensor(n.src[0]);
            const Tensor& ids = g.tensor(n.src[1]);
            c.bytes = static_cast<uint64_t>(ids.n_elements()) * table.nb[1] + ids.n_bytes() + dst.n_bytes();
            break;
        }
        case Op::SetRows: {
            // The destination is the whole cache; only a's rows are written into it.
            const Tensor& a = g.tensor(n.src[0]);
            c.bytes = a.n_bytes() + g.tensor(n.src[1]).n_bytes() + static_cast<uint64_t>(a.n_rows()) * dst.nb[1];
            break;
        }
        case Op::MatMul: {
            const Tensor& w = g.tensor(n.src[0]);  // [k, n]
            const Tensor& x = g.tensor(n.src[1]);  // [k, m, ...]
            c.flops = 2.0 * static_cast<double>(w.ne[0]) * static_cast<double>(w.ne[1]) * static_cast<double>(x.n_rows());
            break;
        }
        case Op::FlashAttn: {
            const Tensor& q = g.tensor(n.src[0]);  // [d, hq, t]
            const Tensor& k = g.tensor(n.src[1]);  // [d, hkv, kv]
            const Tensor& v = g.tensor(n.src[2]);  // [dv, hkv, kv]
            // q·k and p·v per query head and token over every key of the view.
            c.flops = 2.0 * static_cast<double>(q.ne[0] + v.ne[0]) * static_cast<double>(k.ne[2]) *
                      static_cast<double>(q.ne[1]) * static_cast<double>(q.ne[2]) * static_cast<double>(q.ne[3]);
            break;
        }
        case Op::Copy:
        case Op::Concat: c.flops = 0; break;
        case Op::Argmax: c.flops = static_cast<double>(g.tensor(n.src[0]).n_elements()); break;
        default: c.flops = elements; break;
    }
    return c;
}

}  // namespace kiln
