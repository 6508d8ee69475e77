// Matmuls that read the same x reuse the activations an earlier matmul staged (quantized or
// widened) when the compiled plan allows it (cpu_plan_staged_x_reuse). Staging is deterministic,
// so every output must be bit-identical to the same matmul run alone in its own graph.
#include <cstring>

#include "backends/cpu/kernels.h"
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::random_floats;

constexpr int64_t kK = 512;  // two K-quant blocks, 16 legacy blocks (whole quads)

struct Mm {
    DType wt;
    int64_t n;
    uint32_t seed;
};

std::vector<float> weight_values(const Mm& m) { return random_floats(static_cast<size_t>(kK * m.n), m.seed); }

// matmul(w, x) alone in a graph, x of dtype xt holding `xv` ([kK, m]).
std::vector<uint8_t> alone(const Mm& mm, DType xt, const std::vector<float>& xv, int64_t m, CpuIsa isa, int nth) {
    Case c;
    const TensorId W = c.weight("w", mm.wt, {kK, mm.n, 1, 1}, weight_values(mm));
    const TensorId x = c.input("x", xt, {kK, m, 1, 1}, xv);
    return testing::run_case(c, {c.g.matmul(W, x)}, isa, nth)[0];
}

void expect_same(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, const std::string& label) {
    ASSERT_EQ(a.size(), b.size()) << label;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << label << ": not bit-identical to the matmul alone";
}

std::vector<bool> matmul_flags(const Graph& g, CpuIsa isa) {
    const auto plan = cpu_plan_staged_x_reuse(g, isa);
    std::vector<bool> out;
    for (size_t i = 0; i < plan.size(); ++i) {
        if (g.nodes()[i].op == Op::MatMul) out.push_back(plan[i]);
    }
    return out;
}

// Matmuls `mms` of one x (optionally with an unrelated rms_norm between every two): the plan
// must match `want` (one flag per matmul) and every output the matmul alone.
void check_shared(const std::vector<Mm>& mms, DType xt, const std::vector<bool>& want, bool node_between) {
    for (int64_t m : {1, 5}) {
        const auto xv = random_floats(static_cast<size_t>(kK * m), 40 + static_cast<uint32_t>(m));
        for (CpuIsa isa : testing::available_isas()) {
            Case c;
            const TensorId x = c.input("x", xt, {kK, m, 1, 1}, xv);
            // f16, so rms_norm widens its rows in the ops' scratch.
            const TensorId other = c.input("other", DType::F16, {kK, 3, 1, 1}, random_floats(kK * 3, 41));
            std::vector<TensorId> outs;
            for (size_t i = 0; i < mms.size(); ++i) {
                const Mm& mm = mms[i];
                const TensorId W = c.weight("w" + std::to_string(i), mm.wt, {kK, mm.n, 1, 1}, weight_values(mm));
                outs.push_back(c.g.matmul(W, x));
                // rms_norm uses the ops' scratch, which must not overlap the staged activations.
                if (node_between) outs.push_back(c.g.rms_norm(other, 1e-5f));
            }
            const std::string what = std::string(isa_name(isa)) + " m=" + std::to_string(m) + " x=" + std::string(dtype_name(xt));
            if (!want.empty()) {
                EXPECT_EQ(matmul_flags(c.g, isa), want) << what;
            }
            for (int nth : {1, 2, 3}) {
                const auto got = testing::run_case(c, outs, isa, nth);
                for (size_t i = 0; i < mms.size(); ++i) {
                    const size_t o = node_between ? 2 * i : i;
                    expect_same(got[o], alone(mms[i], xt, xv, m, isa, nth),
                                what + " threads=" + std::to_string(nth) + " matmul #" + std::to_string(i) + " " +
                                    std::string(dtype_name(mms[i].wt)));
                }
            }
        }
    }
}

TEST(CpuStagedX, QkvProjectionsReuse) {
    check_shared({{DType::Q4_0, 64, 1}, {DType::Q4_0, 16, 2}, {DType::Q4_0, 16, 3}}, DType::F32, {false, true, true}, false);
    check_shared({{DType::Q4_K, 64, 1}, {DType::Q4_K, 16, 2}, {DType::Q6_K, 16, 3}}, DType::F32, {false, true, true}, false);
}

// The staged format follows the weight dtype: Q4_0 and Q8_0 share one, Q4_1 / Q5_1 keep Q8_1
// sums, K-quants use Q8_K; f32 x with float weights is read in place and leaves the region alone.
TEST(CpuStagedX, ReusesOnlyMatchingFormats) {
    check_shared({{DType::Q4_0, 8, 1}, {DType::Q8_0, 9, 2}, {DType::Q4_1, 10, 3}, {DType::Q5_1, 11, 4},
                  {DType::F16, 12, 5}, {DType::Q5_1, 13, 6}, {DType::Q4_K, 14, 7}, {DType::Q6_K, 15, 8},
                  {DType::Q4_0, 16, 9}, {DType::IQ4_NL, 17, 10}},
                 DType::F32, {false, true, false, true, false, true, false, true, false, true}, false);
    // Q2_K has no tiles (plain Q8_K) while Q4_K's are interleaved on some ISAs: the plan depends
    // on the ISA, the results may not.
    check_shared({{DType::Q4_K, 8, 1}, {DType::Q2_K, 9, 2}, {DType::Q3_K, 10, 3}, {DType::Q5_K, 11, 4}}, DType::F32, {},
                 false);
    // f16 x: float weights widen it to f32 (one format for F32 / F16 / BF16 weights).
    check_shared({{DType::F16, 8, 1}, {DType::F32, 9, 2}, {DType::BF16, 10, 3}, {DType::Q8_0, 11, 4}}, DType::F16,
                 {false, true, true, false}, false);
}

TEST(CpuStagedX, OtherNodesBetweenKeepStagedActivations) {
    check_shared({{DType::Q4_0, 8, 1}, {DType::Q4_0, 9, 2}, {DType::Q4_K, 10, 3}, {DType::Q4_K, 11, 4}}, DType::F32,
                 {false, true, false, true}, true);
}

// A node that writes x's bytes between two matmuls (here a copy into a state tensor) forces the
// second one to stage x again; so does another view of the same storage.
TEST(CpuStagedX, WriteToXOrOtherViewRestages) {
    const int64_t m = 3;
    const auto before = random_floats(static_cast<size_t>(kK * m), 50), after = random_floats(static_cast<size_t>(kK * m), 51);
    const Mm a{DType::Q4_0, 16, 1}, b{DType::Q4_0, 8, 2};
    for (CpuIsa isa : testing::available_isas()) {
        Case c;
        const TensorId s = c.g.state("s", DType::F32, {kK, m, 1, 1});
        c.inputs[s] = testing::encode(DType::F32, before, kK);
        const TensorId src = c.input("src", DType::F32, {kK, m, 1, 1}, after);
        const TensorId Wa = c.weight("wa", a.wt, {kK, a.n, 1, 1}, weight_values(a));
        const TensorId Wb = c.weight("wb", b.wt, {kK, b.n, 1, 1}, weight_values(b));
        const TensorId y1 = c.g.matmul(Wa, s);
        c.g.copy(src, s);
        const TensorId y2 = c.g.matmul(Wb, s);
        // Rows 1..2 of s: same storage, another offset.
        const TensorId tail = c.g.view(s, {kK, m - 1, 1, 1}, c.g.tensor(s).nb, c.g.tensor(s).nb[1]);
        const TensorId y3 = c.g.matmul(Wb, tail);
        const TensorId y4 = c.g.matmul(Wa, tail);
        EXPECT_EQ(matmul_flags(c.g, isa), (std::vector<bool>{false, false, false, true})) << isa_name(isa);
        const std::vector<float> tail_after(after.begin() + kK, after.end());
        for (int nth : {1, 2}) {
            const auto got = testing::run_case(c, {y1, y2, y3, y4}, isa, nth);
            const std::string what = std::string(isa_name(isa)) + " threads=" + std::to_string(nth);
            expect_same(got[0], alone(a, DType::F32, before, m, isa, nth), what + " before the copy");
            expect_same(got[1], alone(b, DType::F32, after, m, isa, nth), what + " after the copy");
            expect_same(got[2], alone(b, DType::F32, tail_after, m - 1, isa, nth), what + " view");
            expect_same(got[3], alone(a, DType::F32, tail_after, m - 1, isa, nth), what + " view, reused");
        }
    }
}

}  // namespace
}  // namespace kiln
