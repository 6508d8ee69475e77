#pragma once
// The backend_ops harness: a one-op (or few-op) graph with random weights and inputs, run on the
// reference, the CPU and the Vulkan backend; outputs compared by NMSE against the reference, and
// NaN/Inf positions must match. Vulkan runs with the validation layer; any message fails.
//
//   OpGraph og;
//   TensorId w = og.weight("w", DType::Q4_0, {256, 33});
//   TensorId x = og.input("x", DType::F32, {256, 7});
//   check_op(og, og.g.matmul(w, x), {.max_nmse = 5e-4});
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace kiln::testing {

class OpGraph {
public:
    Graph g;

    // A weight of random values in [-range, range], quantized to `type` (owned here).
    TensorId weight(const std::string& name, DType type, Shape ne, float range = 1.0f);
    // An input filled with random values in [-range, range] before each run (f32/f16/bf16).
    TensorId input(const std::string& name, DType type, Shape ne, float range = 1.0f);
    // An I32 input with given values (token ids, positions, row indices).
    TensorId input_i32(const std::string& name, std::vector<int32_t> values);
    // Overrides an input's values (f32 values converted to its dtype).
    void set_values(TensorId input, std::vector<float> values);

    // Bytes written to each input before running (after set_values / random fill).
    const std::vector<std::pair<TensorId, std::vector<uint8_t>>>& input_bytes() const { return inputs_; }

private:
    friend void check_op(OpGraph& og, TensorId out, struct OpTolerance tol, const std::string& label);
    std::vector<std::unique_ptr<std::vector<uint8_t>>> weights_;
    std::vector<std::pair<TensorId, std::vector<uint8_t>>> inputs_;
    uint64_t seed_ = 1;
};

struct OpTolerance {
    double max_nmse = 1e-6;  // against the reference, for each backend
    // The CPU quantizes activations for quantized matmuls: it may get a looser bound.
    double max_nmse_cpu = -1;  // < 0: same as max_nmse
    // Cases outside a backend's kernels (it must then say so through supports()).
    bool cpu_supported = true;
    bool vulkan_supported = true;
};

// Runs `og` on every backend and compares tensor `out` (any kind: an op output, or a State the
// graph wrote) with the reference. Adds gtest failures naming the backend, NMSE and first
// mismatching NaN/Inf position. `label` names the case in messages.
void check_op(OpGraph& og, TensorId out, OpTolerance tol = {}, const std::string& label = "");

// Whether the Vulkan backend runs in this process (false: absent and KILN_ALLOW_NO_VULKAN=1).
bool vulkan_available();

// --full: large shapes for real GPUs (set by the test's main from argv or KILN_BACKEND_OPS_FULL=1).
bool full_mode();

}  // namespace kiln::testing
