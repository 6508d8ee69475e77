#pragma once
// Shared by the CPU kernel tests: run a graph on the reference runner and on CpuBackend for every
// ISA this machine supports and threads 1, 2, 3, then compare outputs by NMSE.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/quant/half.h"
#include "graph/quant/quantize.h"
#include "support/reference_runner.h"

namespace kiln::testing {

inline std::vector<CpuIsa> available_isas() {
    std::vector<CpuIsa> out;
    for (CpuIsa i : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
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

// sum((a-b)^2) / sum(a^2); NaN/Inf positions must agree (and are skipped).
inline double nmse(const std::vector<float>& ref, const std::vector<float>& got, std::string* why) {
    if (ref.size() != got.size()) {
        *why = "size differs";
        return INFINITY;
    }
    double num = 0, den = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const bool rf = std::isfinite(ref[i]), gf = std::isfinite(got[i]);
        if (rf != gf || (!rf && (std::isnan(ref[i]) != std::isnan(got[i])))) {
            *why = "non-finite mismatch at " + std::to_string(i) + ": " + std::to_string(ref[i]) + " vs " + std::to_string(got[i]);
            return INFINITY;
        }
        if (!rf) continue;
        num += (static_cast<double>(ref[i]) - got[i]) * (static_cast<double>(ref[i]) - got[i]);
        den += static_cast<double>(ref[i]) * ref[i];
    }
    return den > 0 ? num / den : num;
}

// One graph under test: its leaves' bytes and the tensors to compare.
struct Case {
    Graph g;
    std::map<TensorId, std::vector<uint8_t>> inputs;  // Input and State tensors
    std::vector<TensorId> outputs;
    double threshold = 1e-7;
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

// Runs `c` on the reference and on every ISA x {1, 2, 3} threads; expects NMSE <= threshold.
inline void check_case(Case& c, const std::string& label, std::vector<int> threads = {1, 2, 3}) {
    for (TensorId t : c.outputs) c.g.mark_output(t);
    ReferenceRunner ref(c.g);
    for (auto& [t, bytes] : c.inputs) ref.write(t, bytes);
    ref.run();
    for (CpuIsa isa : available_isas()) {
        for (int nth : threads) {
            CpuBackend be(CpuOptions{nth, isa});
            ASSERT_TRUE(!c.g.nodes().empty());
            auto exe = be.compile(c.g);
            for (auto& [t, bytes] : c.inputs) exe->write(t, bytes);
            exe->run();
            for (TensorId t : c.outputs) {
                const Tensor& x = c.g.tensor(t);
                std::vector<uint8_t> got(x.n_bytes());
                exe->read(t, got);
                const auto want = ref.read(t);
                const auto a = decode(x.type, want, x.n_elements()), b = decode(x.type, got, x.n_elements());
                std::string why;
                const double e = nmse(a, b, &why);
                EXPECT_LE(e, c.threshold) << label << " isa=" << isa_name(isa) << " threads=" << nth << " tensor "
                                          << x.name << " " << why;
            }
        }
    }
}

}  // namespace kiln::testing
