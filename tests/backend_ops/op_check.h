#pragma once
// The op suite's one harness: a graph of one op (or a few) with random weights and inputs, run
// on the reference and on every backend that supports it: the CPU at every instruction set this
// machine has (1 and 3 threads) and Vulkan (lavapipe in CI, under the validation layer; any
// message fails). Each output is held to its op's cross-check threshold (graph/op_traits.h)
// by graph/cross_check.h, unless the case asks for a tighter one.
//
//   OpGraph og;
//   TensorId w = og.weight("w", DType::Q4_0, {256, 33});
//   TensorId x = og.input("x", DType::F32, {256, 7});
//   check_op(og, og.g.matmul(w, x));
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"

namespace kiln::testing {

class OpGraph {
public:
    Graph g;

    // A weight of random values in [-range, range], quantized to `type` (owned here).
    TensorId weight(const std::string& name, DType type, Shape ne, float range = 1.0f);
    // An input filled with random values in [-range, range] before each run (f32/f16/bf16).
    TensorId input(const std::string& name, DType type, Shape ne, float range = 1.0f);
    // A State (a cache the graph writes into) starting with random values in [-range, range].
    TensorId state(const std::string& name, DType type, Shape ne, float range = 1.0f);
    // An I32 input with given values (token ids, positions, row indices).
    TensorId input_i32(const std::string& name, std::vector<int32_t> values);
    // A weight holding `values` converted to `type`.
    TensorId weight_values(const std::string& name, DType type, Shape ne, const std::vector<float>& values);
    // Overrides an input's or state's values (f32 values converted to its dtype).
    void set_values(TensorId input, std::vector<float> values);

    // Bytes written to each input before running (after set_values / random fill).
    const std::vector<std::pair<TensorId, std::vector<uint8_t>>>& input_bytes() const { return inputs_; }

private:
    friend void check_ops(OpGraph& og, std::vector<TensorId> outs, struct OpTolerance tol, const std::string& label);
    std::vector<std::unique_ptr<std::vector<uint8_t>>> weights_;
    std::vector<std::pair<TensorId, std::vector<uint8_t>>> inputs_;
    uint64_t seed_ = 1;
};

struct OpTolerance {
    // Against the reference, for each backend; < 0: the threshold of the op that wrote the
    // output (op_traits). Cases set a tighter one where a path is known to do better.
    double max_nmse = -1;
    double max_nmse_cpu = -1;  // < 0: same as max_nmse
    // Cases outside a backend's kernels (it must then say so through supports()).
    bool cpu_supported = true;
    bool vulkan_supported = true;
    // Skip the CPU: a check of Vulkan kernels the test forces (the CPU's paths do not change).
    bool vulkan_only = false;
};

// Runs `og` on every backend and compares each tensor of `outs` (any kind: an op output, or a
// State the graph wrote) with the reference. Adds gtest failures naming the backend, ISA,
// threads and the cross-check report line. `label` names the case in messages. With
// KILN_OPS_REPORT=1 every comparison's NMSE is printed (to choose tight thresholds).
void check_ops(OpGraph& og, std::vector<TensorId> outs, OpTolerance tol = {}, const std::string& label = "");
inline void check_op(OpGraph& og, TensorId out, OpTolerance tol = {}, const std::string& label = "") {
    check_ops(og, {out}, tol, label);
}

// Bounds tighter than the ops' cross-check thresholds, for paths known to do much better
// (measured with KILN_OPS_REPORT=1 on lavapipe and AVX-512/AVX2/scalar): f32 sums taken in
// another order than the reference's double sums reach ~1e-13; the CPU's 8-bit activation
// blocks for quantized weights ~3e-6 (32-element formats) and ~4e-7 (K-quants).
inline constexpr double kFloatSumsNmse = 1e-11;
inline constexpr double kEightBitActivationsNmse = 2e-5;

// A matmul's bounds: float sums for float weights; for quantized weights 8-bit activations on
// the CPU, and on Vulkan where the harness backend multiplies with integer dots (idot forced,
// or picked by a device whose dots are accelerated), float sums otherwise.
OpTolerance matmul_tolerance(DType w);

// Whether the Vulkan backend runs in this process (false: absent and KILN_ALLOW_NO_VULKAN=1).
bool vulkan_available();

// Recreates the Vulkan backend the checks run on with VulkanOptions::matmul_kernel set to
// `kernel` ("auto" restores the default), so matmul tests cover every kernel on any device. A
// forced kernel folds an rms_norm before it at any column count (VulkanOptions::norm_fold_max_cols).
void force_vulkan_matmul_kernel(std::string_view kernel);
// The shaders the harness's Vulkan backend has dispatched since it was made (by the last
// force_vulkan_matmul_kernel); empty without Vulkan.
std::set<std::string> vulkan_shaders_used();
// Whether the harness's Vulkan device has integer dot products (the idot family runs there).
bool vulkan_integer_dot();
// Expects matmul shaders to have run since the last force_vulkan_matmul_kernel(family), all of
// that family (lanes, vec, vec_shared, tiles, idot: and x quantized for it; on a device without
// integer dots idot falls back and nothing is asserted).
void expect_only_matmul_family_ran(const std::string& family);
// Up to how many columns the harness backend folds an rms_norm into a matmul (0 without Vulkan).
uint32_t vulkan_norm_fold_max_cols();
// The harness device's subgroup size (0 without Vulkan).
uint32_t vulkan_subgroup_size();

// The runs of g the harness's Vulkan backend records as one fused kernel (empty without Vulkan).
std::vector<KernelRun> vulkan_fused_runs(const Graph& g);
// Expects the Vulkan harness to fuse `expected` runs of g, each into `kernel` (checked only
// where Vulkan runs).
inline void expect_vulkan_fused(const Graph& g, size_t expected, const std::string& label,
                                const std::string& kernel = "rms_norm+mul") {
    if (!vulkan_available()) return;
    const std::vector<KernelRun> runs = vulkan_fused_runs(g);
    ASSERT_EQ(runs.size(), expected) << label;
    for (const KernelRun& r : runs) EXPECT_EQ(r.kernel, kernel) << label;
}

// Expects the Vulkan harness to record g's fused runs as exactly these kernels, in node order
// (checked only where Vulkan runs).
inline void expect_vulkan_runs(const Graph& g, const std::vector<std::string>& kernels, const std::string& label = "") {
    if (!vulkan_available()) return;
    std::vector<std::string> got;
    for (const KernelRun& r : vulkan_fused_runs(g)) got.push_back(r.kernel);
    EXPECT_EQ(got, kernels) << label;
}

// --full: large shapes for real GPUs (set by the test's main from argv or KILN_BACKEND_OPS_FULL=1).
bool full_mode();

}  // namespace kiln::testing
