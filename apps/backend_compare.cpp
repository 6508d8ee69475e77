#include "apps/backend_compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "graph/quant/quantize.h"

namespace kiln {
namespace {

std::vector<float> as_floats(const Tensor& t, const std::vector<uint8_t>& bytes) {
    std::vector<float> out(static_cast<size_t>(t.n_elements()));
    if (t.type == DType::I32) {
        for (size_t i = 0; i < out.size(); ++i) {
            int32_t v;
            std::memcpy(&v, bytes.data() + 4 * i, 4);
            out[i] = static_cast<float>(v);
        }
        return out;
    }
    const uint64_t row = row_bytes(t.type, static_cast<uint64_t>(t.ne[0])).value();
    for (int64_t r = 0; r < t.n_rows(); ++r) {
        dequantize_row(t.type, bytes.data() + static_cast<uint64_t>(r) * row, out.data() + r * t.ne[0], t.ne[0]);
    }
    return out;
}

}  // namespace

double op_nmse_threshold(Op op) {
    switch (op) {
        case Op::MatMul:
        case Op::FlashAttn: return 5e-4;
        case Op::Softmax: return 1e-6;
        default: return 1e-7;
    }
}

std::vector<NodeDiff> compare_backends(Graph& g, std::span<const GraphInput> inputs, Backend& a, Backend& b,
                                       const CompareProfile& profile) {
    for (const Node& n : g.nodes()) g.mark_output(n.dst);
    auto ea = a.compile(g);
    auto eb = b.compile(g);
    for (const GraphInput& in : inputs) {
        ea->write(in.tensor, in.bytes);
        eb->write(in.tensor, in.bytes);
    }
    for (Executable* e : {ea.get(), eb.get()}) {
        if (!profile.sink) {
            e->run();
            continue;
        }
        e->set_profiling(true);  // the same work and results, timed
        const auto start = std::chrono::steady_clock::now();
        e->run();
        profile.sink({&g, profile.graph_tokens, profile.graph_tokens, start, e->node_timings(), e->transfer_timings()});
    }

    std::vector<double> error_of(g.tensors().size(), 0.0);  // per storage root: NMSE of its last write
    std::vector<NodeDiff> diffs;
    const auto nodes = g.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        const Tensor& t = g.tensor(n.dst);
        NodeDiff d;
        d.index = i;
        d.name = t.name;
        d.op = std::string(op_name(n.op));
        d.shape = shape_text(t);
        double input_error = 0;
        for (TensorId s : n.src) {
            if (s != kNoTensor) input_error = std::max(input_error, error_of[static_cast<size_t>(g.storage_of(s))]);
        }
        d.threshold = op_nmse_threshold(n.op) + 10 * input_error;
        if (t.is_contiguous()) {
            std::vector<uint8_t> ba(t.n_bytes()), bb(t.n_bytes());
            ea->read(n.dst, ba);
            eb->read(n.dst, bb);
            const auto fa = as_floats(t, ba), fb = as_floats(t, bb);
            double err = 0, ref = 0;
            for (size_t k = 0; k < fa.size(); ++k) {
                const bool fin_a = std::isfinite(fa[k]), fin_b = std::isfinite(fb[k]);
                if (!fin_a || !fin_b) {
                    const bool same = std::isnan(fa[k]) ? std::isnan(fb[k]) : fa[k] == fb[k];
                    d.nan_mismatch = d.nan_mismatch || !same;
                    continue;
                }
                const double diff = static_cast<double>(fa[k]) - fb[k];
                err += diff * diff;
                ref += static_cast<double>(fa[k]) * fa[k];
                d.max_abs = std::max(d.max_abs, std::abs(diff));
            }
            d.nmse = ref > 0 ? err / ref : err;
            d.compared = true;
            error_of[static_cast<size_t>(g.storage_of(n.dst))] = d.nmse;
        } else {
            error_of[static_cast<size_t>(g.storage_of(n.dst))] = input_error;
        }
        diffs.push_back(std::move(d));
    }
    return diffs;
}

}  // namespace kiln
