#pragma once
// Shared by the CPU-only tests (ISA agreement, staged activations, the vector exp): graphs with
// given values, the ISAs this machine has. Per-op checks against the reference are the op
// suite's (tests/backend_ops).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/quant/half.h"
#include "graph/quant/quantize.h"

namespace kiln::testing {

inline std::vector<CpuIsa> available_isas() {
    std::vector<CpuIsa> out;
    for (CpuIsa i : kAllCpuIsas) {
        if (cpu_supports_isa(i)) out.push_back(i);
    }
    return out;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Bytes of n floats converted to dtype t (any computable dtype).
inline std::vector<uint8_t> encode(DType t, const std::vector<float>& x, int64_t row) {
    const uint64_t rb = *row_bytes(t, static_cast<uint64_t>(row));
    const size_t rows = x.size() / static_cast<size_t>(row);
    std::vector<uint8_t> out(rows * rb);
    for (size_t r = 0; r < rows; ++r) quantize_row(t, x.data() + r * row, out.data() + r * rb, row);
    return out;
}

inline std::vector<float> decode(DType t, const std::vector<uint8_t>& bytes, int64_t n) {
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_row(t, bytes.data(), out.data(), n);
    return out;
}

// One graph under test: its leaves' bytes and the tensors to compare.
struct Case {
    Graph g;
    std::map<TensorId, std::vector<uint8_t>> inputs;  // Input and State tensors
    std::vector<std::unique_ptr<std::vector<uint8_t>>> keep;  // weight bytes the graph points into

    // A weight of dtype t holding `x` converted (rows of ne[0]).
    TensorId weight(const std::string& name, DType t, Shape ne, const std::vector<float>& x) {
        keep.push_back(std::make_unique<std::vector<uint8_t>>(encode(t, x, ne[0])));
        return g.weight(name, t, ne, keep.back()->data());
    }
    // An input of dtype t holding `x` converted.
    TensorId input(const std::string& name, DType t, Shape ne, const std::vector<float>& x) {
        const TensorId id = g.input(name, t, ne);
        inputs[id] = encode(t, x, ne[0]);
        return id;
    }

    template <typename T>
    void set(TensorId t, const std::vector<T>& v) {
        inputs[t] = std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                         reinterpret_cast<const uint8_t*>(v.data()) + v.size() * sizeof(T));
    }
};

// Runs c's graph on `isa` with `nth` threads and returns the bytes of `outs` (marked as outputs).
inline std::vector<std::vector<uint8_t>> run_case(Case& c, const std::vector<TensorId>& outs, CpuIsa isa, int nth) {
    for (TensorId t : outs) c.g.mark_output(t);
    CpuBackend be(CpuOptions{nth, isa});
    auto exe = be.compile(c.g);
    for (auto& [t, bytes] : c.inputs) exe->write(t, bytes);
    exe->run();
    std::vector<std::vector<uint8_t>> got;
    for (TensorId t : outs) {
        got.emplace_back(c.g.tensor(t).n_bytes());
        exe->read(t, got.back());
    }
    return got;
}

// The f32 output y of c's graph run on `isa` with 2 threads.
inline std::vector<float> run_f32(Case& c, TensorId y, CpuIsa isa) {
    return decode(DType::F32, run_case(c, {y}, isa, 2)[0], c.g.tensor(y).n_elements());
}

}  // namespace kiln::testing
