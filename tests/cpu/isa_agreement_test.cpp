// The CPU's instruction sets against each other (the op suite, tests/backend_ops, checks each
// against the reference): every ISA quantizes activations the same way and computes exact
// integer block dots, so the quant tiles (AVX-512, scalar), the AMX tiles and the row dots (AVX2)
// agree up to float summation order, far closer than any of them to the reference.
#include "cpu/cpu_test_util.h"
#include "graph/cross_check.h"

namespace kiln {
namespace {

using testing::Case;
using testing::random_floats;

// y = W x for an n x k weight and m columns, on every ISA this machine has.
void expect_isas_agree(DType t, int64_t k, int64_t n = 11, int64_t m = 6) {
    Case c;
    const TensorId W = c.weight("w", t, {k, n, 1, 1}, random_floats(static_cast<size_t>(k * n), 31));
    const TensorId x = c.input("x", DType::F32, {k, m, 1, 1}, random_floats(static_cast<size_t>(k * m), 32));
    const TensorId y = c.g.matmul(W, x);
    c.g.mark_output(y);
    std::vector<std::vector<float>> outs;
    for (CpuIsa isa : testing::available_isas()) {
        outs.push_back(testing::run_f32(c, y, isa));
    }
    for (size_t i = 1; i < outs.size(); ++i) {
        const Agreement a = compare_values(outs[i], outs[0]);
        EXPECT_TRUE(a.within(1e-10)) << dtype_name(t) << " k=" << k << " isa #" << i << ": " << agreement_text(a, 1e-10);
    }
}

TEST(CpuMatmul, KQuantIsasAgreeUpToRounding) {
    for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) expect_isas_agree(t, 512);
}

// 7 and 18 blocks: block quads plus a one-block or two-block tail.
TEST(CpuMatmul, LegacyQuantIsasAgreeUpToRounding) {
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL}) {
        for (int64_t k : {224, 576}) expect_isas_agree(t, k);
    }
}

// Batches of 16 columns and more take the AMX tiles where the CPU has them: 40 columns (a
// 32-token pass and an 8-token one), 45 rows (a panel and a 13-row tail), two chunks of k (so
// the second adds into y).
TEST(CpuMatmul, AmxPromptTilesAgreeWithTheOtherIsas) {
    if (!cpu_supports_isa(CpuIsa::Amx)) {
        GTEST_SKIP() << "skipped: this CPU has no AMX int8/bf16 tiles (or Linux refused the tile state), so the "
                        "amx kernels did not run";
    }
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL}) {
        expect_isas_agree(t, 2080, 45, 40);  // 65 blocks: a chunk of 64 and one more
    }
    for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) expect_isas_agree(t, 2304, 45, 40);  // 8 + 1 blocks
    // bf16 tiles with x and f16 weights split in two: 2^-17 of each product, no more (1056 = two
    // chunks of 512 and a unit of 32).
    for (DType t : {DType::F16, DType::BF16}) expect_isas_agree(t, 1056, 45, 40);
}

}  // namespace
}  // namespace kiln
