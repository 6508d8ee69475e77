#include "graph/op_traits.h"

#include <algorithm>

namespace kiln {

std::string_view op_name(Op op) { return op_traits(op).name; }

NodeCost node_cost(const Graph& g, const Node& n) {
    const Tensor& dst = g.tensor(n.dst);
    NodeCost c;
    for (TensorId s : n.src) {
        if (s != kNoTensor) c.bytes += g.tensor(s).n_bytes();
    }
    c.bytes += dst.n_bytes();
    // Gathers, writes and concatenations move bytes and compute nothing.
    switch (op_traits(n.op).family) {
        case OpFamily::Gather: {
            // Only the gathered rows of the table are read, not the whole table.
            const Tensor& table = g.tensor(n.src[0]);
            const Tensor& ids = g.tensor(n.src[1]);
            c.bytes = static_cast<uint64_t>(ids.n_elements()) * table.nb[1] + ids.n_bytes() + dst.n_bytes();
            break;
        }
        case OpFamily::Write:
            if (n.op == Op::SetRows) {
                // The destination is the whole cache; only a's rows are written into it.
                const Tensor& a = g.tensor(n.src[0]);
                c.bytes = a.n_bytes() + g.tensor(n.src[1]).n_bytes() + static_cast<uint64_t>(a.n_rows()) * dst.nb[1];
            }
            break;
        case OpFamily::Concat: break;
        case OpFamily::MatMul: {
            const Tensor& w = g.tensor(n.src[0]);  // [k, n] or [k, n, experts]
            const Tensor& x = g.tensor(n.src[1]);  // [k, m, ...]
            c.flops = 2.0 * static_cast<double>(w.ne[0]) * static_cast<double>(w.ne[1]) * static_cast<double>(dst.n_rows());
            if (n.op == Op::MulMatId) {
                // Only the chosen experts' matrices are read: at most one per (slot, token), at
                // most every expert.
                const uint64_t picks = static_cast<uint64_t>(g.tensor(n.src[2]).n_elements());
                const uint64_t read = std::min<uint64_t>(picks, static_cast<uint64_t>(w.ne[2])) * w.nb[2];
                c.bytes = read + x.n_bytes() + g.tensor(n.src[2]).n_bytes() + dst.n_bytes();
            }
            break;
        }
        case OpFamily::Attention: {
            const Tensor& q = g.tensor(n.src[0]);  // [d, hq, t]
            const Tensor& k = g.tensor(n.src[1]);  // [d, hkv, kv]
            const Tensor& v = g.tensor(n.src[2]);  // [dv, hkv, kv]
            // q·k and p·v per query head and token over every key of the view.
            c.flops = 2.0 * static_cast<double>(q.ne[0] + v.ne[0]) * static_cast<double>(k.ne[2]) *
                      static_cast<double>(q.ne[1]) * static_cast<double>(q.ne[2]) * static_cast<double>(q.ne[3]);
            break;
        }
        case OpFamily::Reduce: c.flops = static_cast<double>(g.tensor(n.src[0]).n_elements()); break;
        case OpFamily::Unary:
        case OpFamily::Binary:
        case OpFamily::RowNorm:
        case OpFamily::Softmax:
        case OpFamily::Rope: c.flops = static_cast<double>(dst.n_elements()); break;
    }
    return c;
}

}  // namespace kiln
