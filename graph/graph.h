#pragma once
// A static tensor graph: a tensor table and nodes in topological order (the order they were
// added). It is built once per model and shape (decode = 1 token, prompt = a chunk of N) and
// reused every step; what changes per step lives in Input tensors, never in the graph.
// Builder methods check shapes and dtypes and throw kiln::Error naming the tensors, so a model
// whose weights disagree with its hyperparameters fails at load, not in a kernel.
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/op.h"
#include "graph/tensor.h"

namespace kiln {

using Shape = std::array<int64_t, kMaxDims>;

class Graph {
public:
    // ---- leaves ----
    TensorId weight(std::string name, DType type, Shape ne, const void* data);
    TensorId input(std::string name, DType type, Shape ne);
    TensorId state(std::string name, DType type, Shape ne);

    // ---- metadata-only views ----
    TensorId view(TensorId src, Shape ne, std::array<uint64_t, kMaxDims> nb, uint64_t offset, std::string name = "");
    TensorId reshape(TensorId src, Shape ne);  // src must be contiguous
    TensorId permute(TensorId src, std::array<int, kMaxDims> axes);  // result dim i = src dim axes[i]
    TensorId transpose(TensorId src);  // swaps dims 0 and 1

    // ---- ops (see graph/op.h for shapes) ----
    TensorId get_rows(TensorId table, TensorId ids);
    TensorId add(TensorId a, TensorId b);
    TensorId mul(TensorId a, TensorId b);
    TensorId scale(TensorId a, float s);
    TensorId rms_norm(TensorId a, float eps);
    TensorId norm(TensorId a, float eps);
    TensorId matmul(TensorId w, TensorId x);
    // Mixture of experts: column (i, t) of x (x's dim 1 is 1, shared by every slot, or one per
    // slot) times the expert matrix ids[i, t] of w; ids outside [0, experts) give zero columns.
    TensorId mul_mat_id(TensorId w, TensorId x, TensorId ids);
    // `factors` (f32 [n_dims/2], or kNoTensor) divide each pair's frequency: Llama 3.1's rope_freqs.
    TensorId rope(TensorId x, TensorId pos, const RopeParams& p, TensorId factors = kNoTensor);
    TensorId softmax(TensorId a, TensorId mask, float scale);  // mask may be kNoTensor
    // window > 0: sliding-window attention over the last `window` positions (causal only).
    TensorId flash_attn(TensorId q, TensorId k, TensorId v, TensorId pos, float scale, bool causal = true,
                        int32_t window = 0);
    TensorId silu(TensorId a);
    TensorId gelu(TensorId a);
    TensorId sigmoid(TensorId a) { return unary(Op::Sigmoid, a); }
    TensorId swiglu(TensorId gate, TensorId up);
    TensorId copy(TensorId a, TensorId dst);  // returns dst's new version (a view of dst)
    TensorId set_rows(TensorId dst, TensorId a, TensorId ids);
    TensorId concat(TensorId a, TensorId b, int dim);
    TensorId argmax(TensorId a);
    // Indices of the k largest values of each row, largest first; ties go to the lower index and
    // NaN ranks below every number (a router's expert choice).
    TensorId top_k(TensorId a, int k);
    // Any op of the Unary or Binary family (graph/op_traits.h) by its Op (b unused for Unary;
    // params.scale for Scale): for tests and tools that cover a whole family.
    TensorId elementwise(Op op, TensorId a, TensorId b = kNoTensor, OpParams params = {});

    // Nodes added from now on belong to model layer `layer` (kNoLayer: outside the layers).
    void set_layer(int layer) { layer_ = layer; }

    // ---- graph transformations (placement): tensors and nodes already checked elsewhere ----
    // Adds `t` unchanged (a view's view_of must already be an id of this graph).
    TensorId add_tensor_copy(Tensor t) { return add_tensor(std::move(t)); }
    // Appends `n` unchanged (its ids must be ids of this graph).
    void add_node_copy(const Node& n) { nodes_.push_back(n); }

    // Outputs stay readable after execution (the planner does not reuse their memory).
    void mark_output(TensorId t);
    void set_name(TensorId t, std::string name);

    const Tensor& tensor(TensorId t) const { return tensors_.at(static_cast<size_t>(t)); }
    std::span<const Tensor> tensors() const { return tensors_; }
    std::span<const Node> nodes() const { return nodes_; }
    std::span<const TensorId> outputs() const { return outputs_; }
    TensorId find(std::string_view name) const;  // kNoTensor when absent
    // The tensor owning the bytes (follows view chains).
    TensorId storage_of(TensorId t) const;

private:
    TensorId add_tensor(Tensor t);
    // Sources not given are kNoTensor.
    TensorId add_node(Op op, std::initializer_list<TensorId> src, Tensor out, OpParams params = {});
    TensorId unary(Op op, TensorId a, OpParams params = {});
    TensorId binary_broadcast(Op op, TensorId a, TensorId b);
    [[noreturn]] void fail(std::string_view op, const std::string& what) const;
    std::string describe(TensorId t) const;

    std::vector<Tensor> tensors_;
    std::vector<Node> nodes_;
    std::vector<TensorId> outputs_;
    int layer_ = kNoLayer;
};

}  // namespace kiln
