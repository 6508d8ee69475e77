#pragma once
// What kiln knows about each op that more than one backend or tool needs, in one place: its
// name, its family (backends and tests treat a family alike), how closely two backends must
// agree on it, and how much work one node is. `op_traits` is a switch without a default, so a
// new Op fails to compile (-Wswitch, warnings are errors) until it has its traits here; the
// work model and the reference dispatch switch over families, so a new op of an existing
// family needs nothing more there, and a new family fails to compile until they have it.
// Facts one backend alone needs (CPU scratch sizes, Vulkan pipeline choice)
// stay next to that backend's kernels.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace kiln {

enum class OpFamily : uint8_t {
    Unary,      // out[i] = f(a[i]) (+ params.scale): float a of any row strides -> packed f32 like a
    Binary,     // out[i] = f(a[i], b[i mod b's shape]): b broadcast over a
    RowNorm,    // each row of a normalised by its own statistics (params.eps)
    Softmax,    // each row: softmax(a * scale + mask)
    MatMul,     // weights of any dtype times float activations
    Rope,       // rotary position embedding of each head
    Attention,  // flash attention over a KV cache view
    Gather,     // rows of a table picked by ids
    Write,      // writes into an existing tensor (dst is not a new intermediate)
    Concat,     // two tensors joined along a dimension
    Reduce,     // indices chosen per row: the largest (argmax), the k largest (top_k)
};

struct OpTraits {
    std::string_view name;  // as graphs, profiles and `kiln compare` print it
    OpFamily family;
    // Cross-check threshold: the largest NMSE allowed between two backends' outputs (or one
    // backend's and the reference's) when the node's inputs agree exactly. ggml's
    // test-backend-ops thresholds: 1e-7 for exact-in-float ops, 1e-6 for softmax, 5e-4 where
    // a backend may round activations to 8 or 16 bits (matmul, flash attention).
    double nmse;
};

constexpr OpTraits op_traits(Op op) {
    switch (op) {
        case Op::GetRows: return {"get_rows", OpFamily::Gather, 1e-7};
        case Op::Add: return {"add", OpFamily::Binary, 1e-7};
        case Op::Mul: return {"mul", OpFamily::Binary, 1e-7};
        case Op::Scale: return {"scale", OpFamily::Unary, 1e-7};
        case Op::RmsNorm: return {"rms_norm", OpFamily::RowNorm, 1e-7};
        case Op::Norm: return {"norm", OpFamily::RowNorm, 1e-7};
        case Op::MatMul: return {"matmul", OpFamily::MatMul, 5e-4};
        case Op::MulMatId: return {"mul_mat_id", OpFamily::MatMul, 5e-4};
        case Op::Rope: return {"rope", OpFamily::Rope, 1e-7};
        case Op::Softmax: return {"softmax", OpFamily::Softmax, 1e-6};
        case Op::FlashAttn: return {"flash_attn", OpFamily::Attention, 5e-4};
        case Op::Silu: return {"silu", OpFamily::Unary, 1e-7};
        case Op::Gelu: return {"gelu", OpFamily::Unary, 1e-7};
        case Op::Sigmoid: return {"sigmoid", OpFamily::Unary, 1e-7};
        case Op::SwiGLU: return {"swiglu", OpFamily::Binary, 1e-7};
        case Op::Copy: return {"copy", OpFamily::Write, 1e-7};
        case Op::SetRows: return {"set_rows", OpFamily::Write, 1e-7};
        case Op::Concat: return {"concat", OpFamily::Concat, 1e-7};
        case Op::TopK: return {"top_k", OpFamily::Reduce, 0};
        case Op::Argmax: return {"argmax", OpFamily::Reduce, 0};
    }
    return {"?", OpFamily::Unary, 0};  // not reached: every Op has a case
}

// Every op, in enum order (for tables and for tests that cover a whole family).
constexpr std::array<Op, kOpCount> all_ops() {
    std::array<Op, kOpCount> ops{};
    for (int i = 0; i < kOpCount; ++i) ops[static_cast<size_t>(i)] = static_cast<Op>(i);
    return ops;
}

// The ops of one family, in enum order.
inline std::vector<Op> ops_of(OpFamily family) {
    std::vector<Op> out;
    for (Op op : all_ops()) {
        if (op_traits(op).family == family) out.push_back(op);
    }
    return out;
}

// The threshold for a node whose inputs already differ by `input_nmse` (the largest NMSE among
// its inputs): errors propagate through a network, so a node fails only when its error exceeds
// its op's own threshold plus ten times what it was given. The first failing node of a graph is
// then where two backends start to disagree.
constexpr double propagated_nmse_threshold(Op op, double input_nmse) { return op_traits(op).nmse + 10 * input_nmse; }

// What one node moves and computes, for the profile's GB/s and GFLOP/s: a model of the work,
// not a measurement (kCostModel says how it counts, for the profile table and the README).
struct NodeCost {
    uint64_t bytes = 0;  // read + written
    double flops = 0;
};

NodeCost node_cost(const Graph& g, const Node& n);

inline constexpr const char* kCostModel =
    "bytes = every source + the output (whole weights and KV-cache views; get_rows/set_rows only the rows they "
    "gather or scatter); FLOPs: matmul 2*k*n*m, flash_attn 4*d*kv*hq*t over the whole cache view (masked keys "
    "included), copies 0, everything else 1 per output element";

}  // namespace kiln
