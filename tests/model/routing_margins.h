#pragma once
// How close each token's expert choice came to going the other way, for the mixture-of-experts
// goldens. A router picks the k largest of its probabilities; when the k-th and the (k+1)-th
// differ by less than the noise of 8-bit activations (llama.cpp quantizes them one way, kiln's
// kernels another, each correctly), the two engines may pick different experts for that token,
// and its logits then differ by far more than any bound, as in llama.cpp's own backends. Such
// rows are near-ties of routing, exempt like the greedy near-ties of decisive().
#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "models/arch/architectures.h"
#include "models/model.h"

namespace kiln::testing {

// Below this relative gap between the k-th and (k+1)-th probability a choice is a near-tie.
// Measured on the q8_0 MoE goldens with every CPU kernel set: rows drift from llama.cpp's by
// NMSE up to 6e-4 (2.4% RMS), and the four flips seen had gaps of 1.1%, 1.1%, 2.4% and 3.0%;
// 3.5% exempts about one row in eight (the 10th percentile of gaps is 2.4%).
constexpr double kRoutingNearTie = 0.035;

// Per token of `seq` (evaluated as one prompt on the CPU), the smallest relative gap
// (p_k - p_k+1) / p_k over the model's routers; empty for a model without experts.
inline std::vector<double> routing_margins(const Model& m, const std::vector<int32_t>& seq) {
    if (m.hparams().n_expert == 0) return {};
    GraphShape shape;
    shape.n_tokens = static_cast<int>(seq.size());
    shape.n_ctx = static_cast<int>(seq.size());
    shape.logits_all = true;
    ModelGraph mg = build_model_graph(m, shape);
    std::vector<const Node*> routers;
    for (const Node& n : mg.graph.nodes()) {
        if (n.op == Op::TopK) routers.push_back(&n);
    }
    for (const Node* n : routers) mg.graph.mark_output(n->src[0]);
    CpuBackend cpu;
    auto exe = cpu.compile(mg.graph);
    std::vector<int32_t> positions(seq.size());
    for (size_t i = 0; i < seq.size(); ++i) positions[i] = static_cast<int32_t>(i);
    const auto bytes = [](const std::vector<int32_t>& v) {
        return std::span(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(int32_t));
    };
    exe->write(mg.tokens, bytes(seq));
    exe->write(mg.positions, bytes(positions));
    exe->write(mg.output_rows, bytes(positions));
    exe->run();
    std::vector<double> margin(seq.size(), 1.0);
    for (const Node* n : routers) {
        const Tensor& p = mg.graph.tensor(n->src[0]);  // [experts, tokens] f32
        const auto k = static_cast<size_t>(n->params.k);
        std::vector<float> probs(static_cast<size_t>(p.n_elements()));
        exe->read(n->src[0], std::span(reinterpret_cast<uint8_t*>(probs.data()), probs.size() * sizeof(float)));
        const auto experts = static_cast<size_t>(p.ne[0]);
        if (k >= experts) continue;  // every expert chosen: nothing to tie
        for (size_t t = 0; t < seq.size(); ++t) {
            std::vector<float> row(probs.begin() + static_cast<std::ptrdiff_t>(t * experts),
                                   probs.begin() + static_cast<std::ptrdiff_t>((t + 1) * experts));
            std::sort(row.begin(), row.end(), std::greater<>());
            margin[t] = std::min(margin[t], row[k - 1] > 0 ? double(row[k - 1] - row[k]) / row[k - 1] : 0.0);
        }
    }
    return margin;
}

}  // namespace kiln::testing
