// The block structs agree with dtype.h's tables, and every computable dtype converts.
#include <gtest/gtest.h>

#include <vector>

#include "graph/dtype.h"
#include "graph/quant/blocks.h"
#include "graph/quant/quantize.h"

namespace kiln {
namespace {

template <typename Block>
void expect_block(DType t, uint32_t block_size) {
    EXPECT_EQ(sizeof(Block), info(t).block_bytes) << info(t).name;
    EXPECT_EQ(block_size, info(t).block_size) << info(t).name;
    EXPECT_TRUE(info(t).computable) << info(t).name;
}

TEST(DType, BlockStructsMatchInfo) {
    expect_block<BlockQ4_0>(DType::Q4_0, kQK);
    expect_block<BlockQ4_1>(DType::Q4_1, kQK);
    expect_block<BlockQ5_0>(DType::Q5_0, kQK);
    expect_block<BlockQ5_1>(DType::Q5_1, kQK);
    expect_block<BlockQ8_0>(DType::Q8_0, kQK);
    expect_block<BlockIQ4_NL>(DType::IQ4_NL, kQK);
    expect_block<BlockQ2_K>(DType::Q2_K, kQK_K);
    expect_block<BlockQ3_K>(DType::Q3_K, kQK_K);
    expect_block<BlockQ4_K>(DType::Q4_K, kQK_K);
    expect_block<BlockQ5_K>(DType::Q5_K, kQK_K);
    expect_block<BlockQ6_K>(DType::Q6_K, kQK_K);
    expect_block<BlockQ8_K>(DType::Q8_K, kQK_K);
}

TEST(DType, EveryComputableTypeConverts) {
    int computable = 0;
    for (uint32_t id = 0; id < 64; ++id) {
        const auto i = dtype_info(id);
        if (!i || !i->computable) continue;
        ++computable;
        const auto t = static_cast<DType>(id);
        const int64_t n = 512;
        std::vector<float> x(n), y(n);
        for (int64_t k = 0; k < n; ++k) x[k] = static_cast<float>(k % 17) - 8.0f;
        std::vector<uint8_t> q(row_bytes(t, n).value());
        EXPECT_NO_THROW(quantize_row(t, x.data(), q.data(), n)) << i->name;
        EXPECT_NO_THROW(dequantize_row(t, q.data(), y.data(), n)) << i->name;
        // Integers -8..8: within about one quantization step of the format (2-bit Q2_K: ~5).
        const uint32_t bits = i->quantized ? 8 * i->block_bytes / i->block_size : 32;
        const float tol = bits <= 2 ? 3.0f : bits <= 3 ? 1.6f : bits <= 5 ? 1.1f : 0.6f;  // bits per element, overhead included
        for (int64_t k = 0; k < n; ++k) ASSERT_NEAR(y[k], x[k], tol) << i->name << " " << k;
    }
    EXPECT_EQ(computable, 16);
}

}  // namespace
}  // namespace kiln
