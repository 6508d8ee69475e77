#pragma once
// Every op the Vulkan backend runs: whether it can run a node on a device, and how to record
// it. One family per file in ops/ (each with its shader in shaders/); vulkan_op() is the table.
#include <functional>
#include <span>
#include <vector>

#include "backends/vulkan/ops/op_recorder.h"

namespace kiln::vk {

struct VulkanOp {
    // False when the node's dtypes, layout or sizes are outside what the shaders handle, or the
    // device lacks a feature they need; the scheduler then places the node on the CPU.
    bool (*supports)(const Graph& g, const Node& n, const DeviceInfo& info) = nullptr;
    void (*record)(OpRecorder& r, const Node& n) = nullptr;
};

// The entry for `op`; an op no family implements yet has null members (unsupported).
const VulkanOp& vulkan_op(Op op);

// ---- families (ops/<family>.cpp) ----
// elementwise.cpp: Add, Mul, Scale, Silu, Gelu, SwiGLU
bool supports_elementwise(const Graph& g, const Node& n, const DeviceInfo& info);
void record_elementwise(OpRecorder& r, const Node& n);
// norm.cpp: RmsNorm, Norm
bool supports_norm(const Graph& g, const Node& n, const DeviceInfo& info);
void record_norm(OpRecorder& r, const Node& n);
// norm.cpp, fused: rms_norm then mul by a weight row (the decoder's attn/ffn norms)
bool supports_rms_norm_mul(const Graph& g, const Node& norm, const Node& mul, const DeviceInfo& info);
void record_rms_norm_mul(OpRecorder& r, const Node& norm, const Node& mul);
// get_rows.cpp: GetRows (every weight dtype, shares the dequantizers with matmul)
bool supports_get_rows(const Graph& g, const Node& n, const DeviceInfo& info);
void record_get_rows(OpRecorder& r, const Node& n);
// rows.cpp: Copy, SetRows, Concat
bool supports_rows(const Graph& g, const Node& n, const DeviceInfo& info);
void record_rows(OpRecorder& r, const Node& n);
// argmax.cpp: Argmax
bool supports_argmax(const Graph& g, const Node& n, const DeviceInfo& info);
void record_argmax(OpRecorder& r, const Node& n);
// mul_mat_id.cpp: MulMatId (mixture of experts)
bool supports_mul_mat_id(const Graph& g, const Node& n, const DeviceInfo& info);
void record_mul_mat_id(OpRecorder& r, const Node& n);
// top_k.cpp: TopK
bool supports_top_k(const Graph& g, const Node& n, const DeviceInfo& info);
void record_top_k(OpRecorder& r, const Node& n);
// matmul.cpp: MatMul
bool supports_matmul(const Graph& g, const Node& n, const DeviceInfo& info);
void record_matmul(OpRecorder& r, const Node& n);
// matmul.cpp, fused: the product written into `dst` through an epilogue with `operand` (f32,
// the product's shape): + a residual (attention output, FFN down), or swiglu with the other
// projection (gate or up). Values match shaders/matmul_params.glsl's KILN_EPILOGUE_*.
enum class MatmulEpilogue : uint32_t { none = 0, add = 1, swiglu_gate = 2, swiglu_up = 3 };
// What one matmul kernel computes: one matmul (into `dst`, through an epilogue with `operand`);
// or 2-3 matmuls of one x, their weights bound as one range (OpRecorder::bind_together), each
// into its own output; or (`paired`) gate and up into `dst` = swiglu(gate, up). With `norm`,
// x is the rms_norm's input, normalised and multiplied by `norm_mul`'s weight row as it loads.
struct MatmulJob {
    std::vector<const Node*> matmuls;  // paired: gate then up
    TensorId dst = kNoTensor;          // one matmul or paired; segments write each node's dst
    MatmulEpilogue epilogue = MatmulEpilogue::none;
    TensorId operand = kNoTensor;
    bool paired = false;
    const Node* norm = nullptr;
    const Node* norm_mul = nullptr;
};
void record_matmul_job(OpRecorder& r, const MatmulJob& job);
// A matmul followed by an add or swiglu reading it and one more f32 tensor of its shape.
bool supports_matmul_epilogue(const Graph& g, const Node& mm, const Node& next, const DeviceInfo& info);
void record_matmul_epilogue(OpRecorder& r, const Node& mm, const Node& next);
// matmul.cpp, fused projections of one x in one kernel (MatmulJob): an optional rms_norm + mul
// (folded into x's loads), then 1-3 matmuls of its product (q, k, v), or 2 matmuls and the swiglu
// of their outputs (gate, up). `together` says whether weights can be bound as one range (the
// Vulkan weight store places them so); `accept` whether a run of that many nodes may fuse (its
// inner outputs unseen elsewhere). Returns the run's length, longest first, or 0.
using WeightsTogether = std::function<bool(std::span<const TensorId>)>;
size_t match_projections(const Graph& g, std::span<const Node> nodes, const DeviceInfo& info,
                         const WeightsTogether& together, const std::function<bool(size_t)>& accept);
void record_projections(OpRecorder& r, std::span<const Node> run);
// rope.cpp: Rope
bool supports_rope(const Graph& g, const Node& n, const DeviceInfo& info);
void record_rope(OpRecorder& r, const Node& n);
// rope + the set_rows writing its output rows into a KV cache, as one kernel (fusion.cpp).
bool supports_rope_set_rows(const Graph& g, const Node& rope, const Node& set_rows, const DeviceInfo& info);
void record_rope_set_rows(OpRecorder& r, const Node& rope, const Node& set_rows);
// rope.cpp, fused: rope of q, rope of k + its set_rows, and the set_rows of v (in that order):
// one decoder block's attention inputs as one kernel.
bool supports_rope_qkv(const Graph& g, std::span<const Node> run, const DeviceInfo& info);
void record_rope_qkv(OpRecorder& r, std::span<const Node> run);
// softmax.cpp: Softmax
bool supports_softmax(const Graph& g, const Node& n, const DeviceInfo& info);
void record_softmax(OpRecorder& r, const Node& n);
// attention.cpp: FlashAttn
bool supports_flash_attn(const Graph& g, const Node& n, const DeviceInfo& info);
void record_flash_attn(OpRecorder& r, const Node& n);

}  // namespace kiln::vk
