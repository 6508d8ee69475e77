// kiln's dequantizers against ggml's golden data (shared/golden/quant), bit for bit, and kiln's
// quantizers' error against ggml's own quantizer on the same rows.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "graph/cross_check.h"
#include "graph/dtype.h"
#include "graph/quant/quantize.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

struct Golden {
    uint32_t type = 0, n_rows = 0, n_per_row = 0, row_bytes = 0;
    std::vector<float> src, deq;
    std::vector<uint8_t> q;
};

Golden load_golden(const std::filesystem::path& path) {
    Golden g;
    std::ifstream f(path, std::ios::binary);
    uint32_t hdr[5] = {};
    f.read(reinterpret_cast<char*>(hdr), sizeof(hdr));
    EXPECT_EQ(hdr[0], 0x4447514Bu) << path;
    g.type = hdr[1];
    g.n_rows = hdr[2];
    g.n_per_row = hdr[3];
    g.row_bytes = hdr[4];
    const size_t n = static_cast<size_t>(g.n_rows) * g.n_per_row;
    g.src.resize(n);
    g.q.resize(static_cast<size_t>(g.n_rows) * g.row_bytes);
    g.deq.resize(n);
    f.read(reinterpret_cast<char*>(g.src.data()), static_cast<std::streamsize>(n * 4));
    f.read(reinterpret_cast<char*>(g.q.data()), static_cast<std::streamsize>(g.q.size()));
    f.read(reinterpret_cast<char*>(g.deq.data()), static_cast<std::streamsize>(n * 4));
    EXPECT_TRUE(f.good()) << path << " is truncated";
    return g;
}

std::vector<float> dequantize_rows(DType t, const std::vector<uint8_t>& q, uint32_t rows, uint32_t n, uint32_t rb) {
    std::vector<float> out(static_cast<size_t>(rows) * n);
    for (uint32_t r = 0; r < rows; ++r) dequantize_row(t, q.data() + static_cast<size_t>(r) * rb, out.data() + static_cast<size_t>(r) * n, n);
    return out;
}

void check_golden(const std::string& name, const std::filesystem::path& path) {
    const Golden g = load_golden(path);
    ASSERT_FALSE(::testing::Test::HasFailure());
    ASSERT_EQ(g.n_per_row % 256, 0u);

    // Header: kiln's tables agree with ggml's on type id and row size.
    const auto t_opt = dtype_from_name(name);
    ASSERT_TRUE(t_opt.has_value()) << name;
    const DType t = *t_opt;
    EXPECT_EQ(static_cast<uint32_t>(t), g.type);
    ASSERT_EQ(row_bytes(t, g.n_per_row).value_or(0), g.row_bytes);

    // Dequantizing ggml's bytes reproduces ggml's floats bit for bit.
    const std::vector<float> deq = dequantize_rows(t, g.q, g.n_rows, g.n_per_row, g.row_bytes);
    size_t mismatches = 0, first = 0;
    for (size_t i = 0; i < deq.size(); ++i) {
        if (std::bit_cast<uint32_t>(deq[i]) != std::bit_cast<uint32_t>(g.deq[i])) {
            if (mismatches++ == 0) first = i;
        }
    }
    EXPECT_EQ(mismatches, 0u) << name << ": first mismatch at " << first << ": kiln " << deq[first]
                              << " ggml " << g.deq[first];

    // kiln's quantizer is no worse than ggml's on the same rows.
    std::vector<uint8_t> mine(g.q.size());
    for (uint32_t r = 0; r < g.n_rows; ++r) {
        quantize_row(t, g.src.data() + static_cast<size_t>(r) * g.n_per_row, mine.data() + static_cast<size_t>(r) * g.row_bytes,
                     g.n_per_row);
    }
    const std::vector<float> back = dequantize_rows(t, mine, g.n_rows, g.n_per_row, g.row_bytes);
    for (size_t i = 0; i < back.size(); ++i) ASSERT_TRUE(std::isfinite(back[i])) << name << " element " << i;
    const double ours = nmse(back, g.src), theirs = nmse(g.deq, g.src);
    std::printf("[ nmse     ] %-7s kiln %.6e  ggml %.6e  ratio %.4f\n", name.c_str(), ours, theirs, ours / theirs);
    EXPECT_LE(ours, 1.05 * theirs) << name;
    EXPECT_GT(ours, 0.0) << name;  // these types are lossy on random data: a zero means a broken test
}

// One test per golden file: QuantGolden.<type>.
#define KILN_QUANT_GOLDEN(type)                                   \
    TEST(QuantGolden, type) {                                     \
        KILN_REQUIRE_SHARED_FILE(path, "golden/quant/" #type ".bin"); \
        check_golden(#type, path);                                \
    }

KILN_QUANT_GOLDEN(f16)
KILN_QUANT_GOLDEN(bf16)
KILN_QUANT_GOLDEN(q4_0)
KILN_QUANT_GOLDEN(q4_1)
KILN_QUANT_GOLDEN(q5_0)
KILN_QUANT_GOLDEN(q5_1)
KILN_QUANT_GOLDEN(q8_0)
KILN_QUANT_GOLDEN(q2_K)
KILN_QUANT_GOLDEN(q3_K)
KILN_QUANT_GOLDEN(q4_K)
KILN_QUANT_GOLDEN(q5_K)
KILN_QUANT_GOLDEN(q6_K)
KILN_QUANT_GOLDEN(iq4_nl)

}  // namespace
}  // namespace kiln
