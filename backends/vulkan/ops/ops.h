#pragma once
// Every op the Vulkan backend runs: whether it can run a node on a device, and how to record
// it. One family per file in ops/ (each with its shader in shaders/); vulkan_op() is the table.
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
// matmul.cpp: MatMul
bool supports_matmul(const Graph& g, const Node& n, const DeviceInfo& info);
void record_matmul(OpRecorder& r, const Node& n);
// matmul.cpp, fused: the product written into `dst` through an epilogue with `operand` (f32,
// the product's shape): + a residual (attention output, FFN down), or swiglu with the other
// projection (gate or up). Values match shaders/matmul_params.glsl's KILN_EPILOGUE_*.
enum class MatmulEpilogue : uint32_t { none = 0, add = 1, swiglu_gate = 2, swiglu_up = 3 };
void record_matmul_into(OpRecorder& r, const Node& n, TensorId dst, MatmulEpilogue epilogue, TensorId operand);
// A matmul followed by an add or swiglu reading it and one more f32 tensor of its shape.
bool supports_matmul_epilogue(const Graph& g, const Node& mm, const Node& next, const DeviceInfo& info);
void record_matmul_epilogue(OpRecorder& r, const Node& mm, const Node& next);
// rope.cpp: Rope
bool supports_rope(const Graph& g, const Node& n, const DeviceInfo& info);
void record_rope(OpRecorder& r, const Node& n);
// rope + the set_rows writing its output rows into a KV cache, as one kernel (fusion.cpp).
bool supports_rope_set_rows(const Graph& g, const Node& rope, const Node& set_rows, const DeviceInfo& info);
void record_rope_set_rows(OpRecorder& r, const Node& rope, const Node& set_rows);
// softmax.cpp: Softmax
bool supports_softmax(const Graph& g, const Node& n, const DeviceInfo& info);
void record_softmax(OpRecorder& r, const Node& n);
// attention.cpp: FlashAttn
bool supports_flash_attn(const Graph& g, const Node& n, const DeviceInfo& info);
void record_flash_attn(OpRecorder& r, const Node& n);

}  // namespace kiln::vk
