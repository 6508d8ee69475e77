// MatMul for every weight dtype against the reference (which dequantizes weights and uses float
// activations): quantized paths also quantize activations, hence the 5e-4 NMSE bound.
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::Case;
using testing::check_case;
using testing::random_floats;

const DType kAll[] = {DType::F32,  DType::F16,    DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                      DType::Q8_0, DType::IQ4_NL, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

void run_matmul(DType wt, int64_t k, int64_t n, Shape xs, DType xt, std::vector<int> threads = {1, 2, 3}) {
    Case c;
    c.threshold = 5e-4;
    const auto w = random_floats(static_cast<size_t>(k * n), 20 + static_cast<uint32_t>(k + n));
    const TensorId W = c.weight("w", wt, {k, n, 1, 1}, w);
    const TensorId x = c.input("x", xt, xs, random_floats(static_cast<size_t>(xs[0] * xs[1] * xs[2] * xs[3]), 21));
    c.outputs = {c.g.matmul(W, x)};
    check_case(c,
               "matmul " + std::string(dtype_name(wt)) + " k=" + std::to_string(k) + " n=" + std::to_string(n) +
                   " m=" + std::to_string(xs[1]) + "x" + std::to_string(xs[2]),
               threads);
}

TEST(CpuMatmul, EveryDtypeMatvec) {
    for (DType t : kAll) {
        for (int64_t n : {1, 7, 64}) run_matmul(t, 512, n, {512, 1, 1, 1}, DType::F32);
    }
}

TEST(CpuMatmul, EveryDtypeBatched) {
    for (DType t : kAll) {
        for (int64_t m : {2, 5, 33}) run_matmul(t, 256, 37, {256, m, 1, 1}, DType::F32);
    }
}

// The tiled quant kernels step four 32-element blocks at a time (then pairs, then one) and up to
// 4 rows x 4 columns: block counts 1, 3, 4, 5, 7 and 18 reach every tail, and n / m leave partial
// row and column tiles.
TEST(CpuMatmul, LegacyQuantOddBlockCountsAndPartialTiles) {
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL}) {
        for (int64_t k : {32, 96, 128, 160, 224, 576}) {
            for (int64_t m : {1, 3, 6}) run_matmul(t, k, 9, {k, m, 1, 1}, DType::F32);
        }
    }
}

// The K-quant tiles (Q4_K / Q5_K / Q6_K) accumulate each 256-element block exactly and carry
// float sums across blocks: several blocks, rows and columns that leave partial tiles.
TEST(CpuMatmul, KQuantMultiBlockPartialTiles) {
    for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        for (int64_t k : {256, 768}) {
            for (int64_t m : {1, 3, 6}) run_matmul(t, k, 9, {k, m, 1, 1}, DType::F32);
        }
    }
}

// Every ISA quantizes activations the same way and computes exact integer block dots, so the
// quant tiles (AVX-512, scalar) and row dots (AVX2) agree up to float summation order.
void expect_isas_agree(DType t, int64_t k) {
    Case c;
    const int64_t n = 11, m = 6;
    const TensorId W = c.weight("w", t, {k, n, 1, 1}, random_floats(static_cast<size_t>(k * n), 31));
    const TensorId x = c.input("x", DType::F32, {k, m, 1, 1}, random_floats(static_cast<size_t>(k * m), 32));
    const TensorId y = c.g.matmul(W, x);
    c.g.mark_output(y);
    std::vector<std::vector<float>> outs;
    for (CpuIsa isa : testing::available_isas()) {
        CpuBackend be(CpuOptions{2, isa});
        auto exe = be.compile(c.g);
        for (auto& [id, bytes] : c.inputs) exe->write(id, bytes);
        exe->run();
        std::vector<uint8_t> got(c.g.tensor(y).n_bytes());
        exe->read(y, got);
        outs.push_back(testing::decode(DType::F32, got, n * m));
    }
    for (size_t i = 1; i < outs.size(); ++i) {
        std::string why;
        EXPECT_LE(testing::nmse(outs[0], outs[i], &why), 1e-10) << dtype_name(t) << " k=" << k << " isa #" << i << " " << why;
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

TEST(CpuMatmul, FloatWeightsOddInnerSize) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
        for (int64_t k : {1, 7, 37, 100, 1003}) {
            run_matmul(t, k, 9, {k, 1, 1, 1}, DType::F32);
            run_matmul(t, k, 9, {k, 5, 1, 1}, DType::F32);
        }
    }
}

TEST(CpuMatmul, HalfActivationsAndBatchDims) {
    for (DType t : {DType::F16, DType::Q8_0, DType::Q4_K}) {
        for (DType xt : {DType::F16, DType::BF16, DType::F32}) run_matmul(t, 256, 13, {256, 3, 2, 2}, xt);
    }
}

TEST(CpuMatmul, FewRowsManyColumnsSplitsColumns) {
    for (DType t : {DType::F32, DType::Q4_0, DType::Q6_K}) run_matmul(t, 256, 2, {256, 33, 1, 1}, DType::F32);
}

TEST(CpuMatmul, LargeMatvec) {
    for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::F16}) run_matmul(t, 4096, 96, {4096, 1, 1, 1}, DType::F32, {2});
}

TEST(CpuMatmul, ActivationsAsStridedView) {
    Case c;
    c.threshold = 5e-4;
    const TensorId W = c.weight("w", DType::Q4_0, {64, 16, 1, 1}, random_floats(64 * 16, 22));
    const TensorId big = c.input("x", DType::F32, {96, 6, 1, 1}, random_floats(96 * 6, 23));
    const TensorId x = c.g.view(big, {64, 3, 1, 1}, {4, 2 * 96 * 4, 6 * 96 * 4, 6 * 96 * 4}, 32 * 4);
    const TensorId Wf = c.weight("wf", DType::F16, {64, 16, 1, 1}, random_floats(64 * 16, 24));
    c.outputs = {c.g.matmul(W, x), c.g.matmul(Wf, x)};
    check_case(c, "matmul strided x");
}

}  // namespace
}  // namespace kiln
