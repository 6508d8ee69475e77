#include "graph/graph.h"

#include <algorithm>

#include "graph/error.h"
#include "graph/op_traits.h"

namespace kiln {
namespace {

Tensor packed(DType type, Shape ne, TensorKind kind) {
    Tensor t;
    t.type = type;
    t.kind = kind;
    t.ne = ne;
    t.nb = packed_strides(type, ne);
    return t;
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

}  // namespace

void Graph::fail(std::string_view op, const std::string& what) const {
    throw Error("graph: " + std::string(op) + ": " + what);
}

std::string Graph::describe(TensorId t) const {
    const Tensor& x = tensor(t);
    return "'" + x.name + "' " + std::string(dtype_name(x.type)) + " " + shape_text(x);
}

TensorId Graph::add_tensor(Tensor t) {
    if (t.name.empty()) t.name = "t" + std::to_string(tensors_.size());
    for (int d = 0; d < kMaxDims; ++d) {
        if (t.ne[d] <= 0) throw Error("graph: tensor '" + t.name + "': dimension " + std::to_string(d) + " is not positive");
    }
    if (t.ne[0] % info(t.type).block_size != 0) {
        throw Error("graph: tensor '" + t.name + "': row of " + std::to_string(t.ne[0]) + " is not a multiple of " +
                    std::string(dtype_name(t.type)) + "'s block");
    }
    tensors_.push_back(std::move(t));
    return static_cast<TensorId>(tensors_.size() - 1);
}

TensorId Graph::add_node(Op op, std::initializer_list<TensorId> src, Tensor out, OpParams params) {
    out.name = std::string(op_name(op)) + "_" + std::to_string(nodes_.size());
    TensorId dst = add_tensor(std::move(out));
    std::array<TensorId, kMaxSrc> sources{kNoTensor, kNoTensor, kNoTensor, kNoTensor};
    std::copy(src.begin(), src.end(), sources.begin());
    nodes_.push_back({op, sources, dst, params, layer_});
    return dst;
}

TensorId Graph::weight(std::string name, DType type, Shape ne, const void* data) {
    Tensor t = packed(type, ne, TensorKind::Weight);
    t.name = std::move(name);
    t.host_data = data;
    return add_tensor(std::move(t));
}

TensorId Graph::input(std::string name, DType type, Shape ne) {
    Tensor t = packed(type, ne, TensorKind::Input);
    t.name = std::move(name);
    return add_tensor(std::move(t));
}

TensorId Graph::state(std::string name, DType type, Shape ne) {
    Tensor t = packed(type, ne, TensorKind::State);
    t.name = std::move(name);
    return add_tensor(std::move(t));
}

TensorId Graph::view(TensorId src, Shape ne, std::array<uint64_t, kMaxDims> nb, uint64_t offset, std::string name) {
    const Tensor& s = tensor(src);
    Tensor t;
    t.type = s.type;
    t.kind = TensorKind::View;
    t.ne = ne;
    t.nb = nb;
    t.view_of = src;
    t.view_offset = offset;
    t.name = name.empty() ? s.name + ".view" : std::move(name);
    // The view must stay within the bytes of the tensor it looks into.
    const uint64_t end = offset + t.n_bytes();
    const uint64_t src_bytes = s.n_bytes();
    if (end > src_bytes) {
        fail("view", "view of " + describe(src) + " ends at byte " + std::to_string(end) + " past its " +
                         std::to_string(src_bytes) + " bytes");
    }
    return add_tensor(std::move(t));
}

TensorId Graph::reshape(TensorId src, Shape ne) {
    const Tensor& s = tensor(src);
    if (!s.is_contiguous()) fail("reshape", describe(src) + " is not contiguous");
    if (ne[0] * ne[1] * ne[2] * ne[3] != s.n_elements()) fail("reshape", describe(src) + " has a different element count");
    const DType type = s.type;
    return view(src, ne, packed_strides(type, ne), 0, s.name + ".reshape");
}

TensorId Graph::permute(TensorId src, std::array<int, kMaxDims> axes) {
    const Tensor& s = tensor(src);
    if (info(s.type).block_size != 1) fail("permute", describe(src) + " is block-quantized");
    Shape ne{};
    std::array<uint64_t, kMaxDims> nb{};
    std::array<bool, kMaxDims> used{};
    for (int i = 0; i < kMaxDims; ++i) {
        if (axes[i] < 0 || axes[i] >= kMaxDims || used[axes[i]]) fail("permute", "axes are not a permutation");
        used[axes[i]] = true;
        ne[i] = s.ne[axes[i]];
        nb[i] = s.nb[axes[i]];
    }
    return view(src, ne, nb, 0, s.name + ".permute");
}

TensorId Graph::transpose(TensorId src) { return permute(src, {1, 0, 2, 3}); }

TensorId Graph::unary(Op op, TensorId a, OpParams params) {
    const Tensor& x = tensor(a);
    if (!is_float(x.type)) fail(op_name(op), describe(a) + " is not a float tensor");
    if (!x.rows_contiguous()) fail(op_name(op), describe(a) + " rows are not contiguous");
    return add_node(op, {a}, packed(DType::F32, x.ne, TensorKind::Intermediate), params);
}

TensorId Graph::binary_broadcast(Op op, TensorId a, TensorId b) {
    const Tensor& x = tensor(a);
    const Tensor& y = tensor(b);
    if (!is_float(x.type) || !is_float(y.type)) fail(op_name(op), describe(a) + " and " + describe(b) + " must be float");
    if (!x.rows_contiguous() || !y.rows_contiguous()) fail(op_name(op), "rows must be contiguous");
    for (int d = 0; d < kMaxDims; ++d) {
        if (x.ne[d] % y.ne[d] != 0) fail(op_name(op), describe(b) + " does not broadcast over " + describe(a));
    }
    return add_node(op, {a, b}, packed(DType::F32, x.ne, TensorKind::Intermediate));
}

TensorId Graph::get_rows(TensorId table, TensorId ids) {
    const Tensor& t = tensor(table);
    const Tensor& i = tensor(ids);
    // A batch of lookups: ids [m, b] picks rows of table slice b.
    if (i.type != DType::I32 || i.ne[2] * i.ne[3] != 1 || !i.is_contiguous() || i.ne[1] != t.ne[2]) {
        fail("get_rows", describe(ids) + " must be contiguous I32 [m, " + std::to_string(t.ne[2]) + "]");
    }
    if (!info(t.type).computable || t.type == DType::I32) fail("get_rows", describe(table) + " has no float conversion");
    if (t.ne[3] != 1 || !t.rows_contiguous()) fail("get_rows", describe(table) + " must be at most 3-D with contiguous rows");
    return add_node(Op::GetRows, {table, ids}, packed(DType::F32, {t.ne[0], i.ne[0], i.ne[1], 1}, TensorKind::Intermediate));
}

TensorId Graph::add(TensorId a, TensorId b) { return binary_broadcast(Op::Add, a, b); }
TensorId Graph::mul(TensorId a, TensorId b) { return binary_broadcast(Op::Mul, a, b); }

TensorId Graph::scale(TensorId a, float s) {
    OpParams p;
    p.scale = s;
    return unary(Op::Scale, a, p);
}

TensorId Graph::rms_norm(TensorId a, float eps) {
    OpParams p;
    p.eps = eps;
    return unary(Op::RmsNorm, a, p);
}

TensorId Graph::norm(TensorId a, float eps) {
    OpParams p;
    p.eps = eps;
    return unary(Op::Norm, a, p);
}

TensorId Graph::matmul(TensorId w, TensorId x) {
    const Tensor& W = tensor(w);
    const Tensor& X = tensor(x);
    if (!info(W.type).computable || W.type == DType::I32 || W.type == DType::Q8_K) {
        fail("matmul", describe(w) + ": dtype " + std::string(dtype_name(W.type)) + " is not supported");
    }
    if (!is_float(X.type)) fail("matmul", describe(x) + " must be float");
    if (W.ne[0] != X.ne[0]) fail("matmul", describe(w) + " and " + describe(x) + " disagree on the inner dimension");
    if (W.ne[2] * W.ne[3] != 1) fail("matmul", describe(w) + " must be 2-D");
    if (!W.rows_contiguous() || !X.rows_contiguous()) fail("matmul", "rows must be contiguous");
    return add_node(Op::MatMul, {w, x}, packed(DType::F32, {W.ne[1], X.ne[1], X.ne[2], X.ne[3]}, TensorKind::Intermediate));
}

TensorId Graph::mul_mat_id(TensorId w, TensorId x, TensorId ids) {
    const Tensor& W = tensor(w);
    const Tensor& X = tensor(x);
    const Tensor& I = tensor(ids);
    if (!info(W.type).computable || W.type == DType::I32 || W.type == DType::Q8_K) {
        fail("mul_mat_id", describe(w) + ": dtype " + std::string(dtype_name(W.type)) + " is not supported");
    }
    if (!is_float(X.type)) fail("mul_mat_id", describe(x) + " must be float");
    if (W.ne[0] != X.ne[0]) fail("mul_mat_id", describe(w) + " and " + describe(x) + " disagree on the inner dimension");
    if (W.ne[3] != 1 || W.ne[2] < 1) fail("mul_mat_id", describe(w) + " must be [k, n, experts]");
    if (I.type != DType::I32 || !I.is_contiguous() || I.ne[2] * I.ne[3] != 1 || I.ne[1] != X.ne[2] || I.ne[0] < 1) {
        fail("mul_mat_id", describe(ids) + " must be contiguous I32 [used, " + std::to_string(X.ne[2]) + "]");
    }
    if (X.ne[1] != 1 && X.ne[1] != I.ne[0]) {
        fail("mul_mat_id", describe(x) + " needs 1 or " + std::to_string(I.ne[0]) + " columns per token");
    }
    if (X.ne[3] != 1 || !W.rows_contiguous() || !X.rows_contiguous()) fail("mul_mat_id", "rows must be contiguous");
    return add_node(Op::MulMatId, {w, x, ids}, packed(DType::F32, {W.ne[1], I.ne[0], X.ne[2], 1}, TensorKind::Intermediate));
}

TensorId Graph::rope(TensorId x, TensorId pos, const RopeParams& p, TensorId factors) {
    const Tensor& X = tensor(x);
    const Tensor& P = tensor(pos);
    if (P.type != DType::I32 || P.ne[0] != X.ne[2]) fail("rope", describe(pos) + " must be I32 [" + std::to_string(X.ne[2]) + "]");
    if (p.n_dims <= 0 || p.n_dims > X.ne[0] || p.n_dims % 2 != 0) {
        fail("rope", "rotated dims " + std::to_string(p.n_dims) + " must be even and within the head size of " + describe(x));
    }
    if (!(p.freq_base > 0) || !(p.freq_scale > 0)) fail("rope", "frequency base and scale must be positive");
    OpParams params;
    params.rope = p;
    if (X.type != DType::F32 || !X.rows_contiguous()) fail("rope", describe(x) + " must be f32 with contiguous rows");
    if (factors != kNoTensor) {
        const Tensor& F = tensor(factors);
        if (F.type != DType::F32 || F.n_elements() != p.n_dims / 2) {
            fail("rope", describe(factors) + " must be f32 [" + std::to_string(p.n_dims / 2) + "]");
        }
    }
    return add_node(Op::Rope, {x, pos, factors}, packed(DType::F32, X.ne, TensorKind::Intermediate), params);
}

TensorId Graph::softmax(TensorId a, TensorId mask, float scale) {
    const Tensor& A = tensor(a);
    if (A.type != DType::F32 || !A.rows_contiguous()) fail("softmax", describe(a) + " must be f32 with contiguous rows");
    if (mask != kNoTensor) {
        const Tensor& M = tensor(mask);
        if (!is_float(M.type) || M.ne[0] != A.ne[0] || A.ne[1] % M.ne[1] != 0 || M.ne[2] * M.ne[3] != 1) {
            fail("softmax", describe(mask) + " does not fit " + describe(a));
        }
    }
    OpParams p;
    p.scale = scale;
    return add_node(Op::Softmax, {a, mask}, packed(DType::F32, A.ne, TensorKind::Intermediate), p);
}

TensorId Graph::flash_attn(TensorId q, TensorId k, TensorId v, TensorId pos, float scale, bool causal, int32_t window) {
    const Tensor& Q = tensor(q);
    const Tensor& K = tensor(k);
    const Tensor& V = tensor(v);
    const Tensor& P = tensor(pos);
    if (Q.type != DType::F32) fail("flash_attn", describe(q) + " must be f32");
    if (!is_float(K.type) || !is_float(V.type)) fail("flash_attn", "K and V must be f32, f16 or bf16");
    if (K.ne[0] != Q.ne[0]) fail("flash_attn", describe(k) + " head size differs from " + describe(q));
    if (K.ne[2] != V.ne[2] || K.ne[1] != V.ne[1]) fail("flash_attn", describe(k) + " and " + describe(v) + " disagree");
    if (K.ne[1] == 0 || Q.ne[1] % K.ne[1] != 0) fail("flash_attn", "KV heads of " + describe(k) + " do not divide the query heads");
    if (P.type != DType::I32 || P.ne[0] != Q.ne[2]) fail("flash_attn", describe(pos) + " must be I32 [" + std::to_string(Q.ne[2]) + "]");
    if (!Q.rows_contiguous() || !K.rows_contiguous() || !V.rows_contiguous()) fail("flash_attn", "rows must be contiguous");
    if (window < 0 || (window > 0 && !causal)) fail("flash_attn", "a sliding window needs causal attention and a positive size");
    OpParams p;
    p.scale = scale;
    p.causal = causal;
    p.window = window;
    return add_node(Op::FlashAttn, {q, k, v, pos}, packed(DType::F32, {V.ne[0], Q.ne[1], Q.ne[2], 1}, TensorKind::Intermediate), p);
}

TensorId Graph::silu(TensorId a) { return unary(Op::Silu, a); }
TensorId Graph::gelu(TensorId a) { return unary(Op::Gelu, a); }

TensorId Graph::swiglu(TensorId gate, TensorId up) {
    const Tensor& G = tensor(gate);
    const Tensor& U = tensor(up);
    if (G.ne != U.ne) fail("swiglu", describe(gate) + " and " + describe(up) + " differ in shape");
    if (!is_float(G.type) || !is_float(U.type)) fail("swiglu", "inputs must be float");
    return add_node(Op::SwiGLU, {gate, up}, packed(DType::F32, G.ne, TensorKind::Intermediate));
}

TensorId Graph::copy(TensorId a, TensorId dst) {
    const Tensor& A = tensor(a);
    const Tensor& D = tensor(dst);
    if (A.n_elements() != D.n_elements()) fail("copy", describe(a) + " and " + describe(dst) + " differ in size");
    if (!is_float(A.type) || !info(D.type).computable) fail("copy", "cannot convert " + describe(a) + " to " + describe(dst));
    if (!A.rows_contiguous() || !D.rows_contiguous()) fail("copy", "rows must be contiguous");
    // The node writes into dst's bytes: its output is dst itself.
    nodes_.push_back({Op::Copy, {a, kNoTensor, kNoTensor, kNoTensor}, dst, {}, layer_});
    return dst;
}

TensorId Graph::set_rows(TensorId dst, TensorId a, TensorId ids) {
    const Tensor& D = tensor(dst);
    const Tensor& A = tensor(a);
    const Tensor& I = tensor(ids);
    if (D.ne[0] != A.ne[0] || D.ne[2] * D.ne[3] != 1 || A.ne[2] * A.ne[3] != 1) {
        fail("set_rows", describe(a) + " rows do not fit " + describe(dst));
    }
    if (I.type != DType::I32 || I.ne[0] != A.ne[1]) fail("set_rows", describe(ids) + " must be I32 [" + std::to_string(A.ne[1]) + "]");
    if (!is_float(A.type) || !info(D.type).computable) fail("set_rows", "cannot convert " + describe(a) + " to " + describe(dst));
    nodes_.push_back({Op::SetRows, {a, ids, kNoTensor, kNoTensor}, dst, {}, layer_});
    return dst;
}

TensorId Graph::concat(TensorId a, TensorId b, int dim) {
    const Tensor& A = tensor(a);
    const Tensor& B = tensor(b);
    if (dim < 0 || dim >= kMaxDims) fail("concat", "dimension " + std::to_string(dim) + " out of range");
    Shape ne = A.ne;
    for (int d = 0; d < kMaxDims; ++d) {
        if (d != dim && A.ne[d] != B.ne[d]) fail("concat", describe(a) + " and " + describe(b) + " differ outside dim " + std::to_string(dim));
    }
    if (!is_float(A.type) || !is_float(B.type)) fail("concat", "inputs must be float");
    ne[dim] += B.ne[dim];
    OpParams p;
    p.dim = dim;
    return add_node(Op::Concat, {a, b}, packed(DType::F32, ne, TensorKind::Intermediate), p);
}

TensorId Graph::argmax(TensorId a) {
    const Tensor& A = tensor(a);
    if (A.type != DType::F32 || !A.rows_contiguous()) fail("argmax", describe(a) + " must be f32 with contiguous rows");
    return add_node(Op::Argmax, {a}, packed(DType::I32, {1, A.ne[1], A.ne[2], A.ne[3]}, TensorKind::Intermediate));
}

TensorId Graph::top_k(TensorId a, int k) {
    const Tensor& A = tensor(a);
    if (A.type != DType::F32 || !A.rows_contiguous()) fail("top_k", describe(a) + " must be f32 with contiguous rows");
    if (k < 1 || k > A.ne[0]) fail("top_k", "k = " + std::to_string(k) + " must be in 1.." + std::to_string(A.ne[0]));
    OpParams p;
    p.k = k;
    return add_node(Op::TopK, {a}, packed(DType::I32, {k, A.ne[1], A.ne[2], A.ne[3]}, TensorKind::Intermediate), p);
}

TensorId Graph::elementwise(Op op, TensorId a, TensorId b, OpParams params) {
    switch (op_traits(op).family) {
        case OpFamily::Unary: return unary(op, a, params);
        case OpFamily::Binary: return op == Op::SwiGLU ? swiglu(a, b) : binary_broadcast(op, a, b);
        default: fail(op_name(op), "is not an element-wise op");
    }
}

void Graph::mark_output(TensorId t) {
    if (std::find(outputs_.begin(), outputs_.end(), t) == outputs_.end()) outputs_.push_back(t);
}

void Graph::set_name(TensorId t, std::string name) { tensors_.at(static_cast<size_t>(t)).name = std::move(name); }

TensorId Graph::find(std::string_view name) const {
    for (size_t i = 0; i < tensors_.size(); ++i) {
        if (tensors_[i].name == name) return static_cast<TensorId>(i);
    }
    return kNoTensor;
}

TensorId Graph::storage_of(TensorId t) const {
    while (tensor(t).kind == TensorKind::View) t = tensor(t).view_of;
    return t;
}

}  // namespace kiln
