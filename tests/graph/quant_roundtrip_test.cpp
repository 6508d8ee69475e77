// Quantize -> dequantize on synthetic rows: Q8_K's format, awkward inputs for every quantized
// type, and the argument checks of dequantize_row / quantize_row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/cross_check.h"
#include "graph/dtype.h"
#include "graph/error.h"
#include "graph/quant/quantize.h"

namespace kiln {
namespace {

constexpr int64_t kN = 1024;

struct TypeCase {
    const char* name;
    double gauss_nmse;  // bound on N(0,1) rows: about 1.5x what the format achieves
};

constexpr TypeCase kTypes[] = {
    {"q4_0", 1.1e-2}, {"q4_1", 8e-3},  {"q5_0", 2.5e-3}, {"q5_1", 1.8e-3}, {"q8_0", 4e-5},  {"iq4_nl", 8.5e-3},
    {"q2_K", 0.11},   {"q3_K", 3.2e-2}, {"q4_K", 7.5e-3}, {"q5_K", 1.8e-3}, {"q6_K", 4.5e-4}, {"q8_K", 7.5e-5},
};

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(row_bytes(t, x.size()).value());
    quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    std::vector<float> y(x.size());
    dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    return y;
}

std::vector<float> gaussian(uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> x(kN);
    for (float& v : x) v = nd(rng);
    return x;
}

void expect_finite(const std::vector<float>& y, const std::string& what) {
    for (size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << what << " element " << i;
}

// The awkward-input checks for one type; each is its own function so an ASSERT ends only it.
void gaussian_rows(const TypeCase& tc, DType t) {
    for (uint32_t seed : {1u, 2u, 3u}) {
        const auto x = gaussian(seed);
        const auto y = round_trip(t, x);
        expect_finite(y, tc.name);
        const double e = nmse(y, x);
        EXPECT_LT(e, tc.gauss_nmse) << tc.name << " seed " << seed;
        EXPECT_GT(e, 0.0) << tc.name;
    }
}

void zeros_stay_zero(const TypeCase& tc, DType t) {
    const std::vector<float> x(kN, 0.0f);
    for (float v : round_trip(t, x)) ASSERT_EQ(v, 0.0f) << tc.name;
}

void constant_rows(const TypeCase& tc, DType t) {
    for (float c : {0.5f, -2.0f, 3.0e3f}) {
        const std::vector<float> x(kN, c);
        const auto y = round_trip(t, x);
        expect_finite(y, tc.name);
        EXPECT_LT(nmse(y, x), 1e-4) << tc.name << " constant " << c;
    }
}

void one_huge_outlier(const TypeCase& tc, DType t) {
    auto x = gaussian(4);
    x[300] = 1000.0f;
    const auto y = round_trip(t, x);
    expect_finite(y, tc.name);
    EXPECT_NEAR(y[300], 1000.0f, 5.0f) << tc.name;
    // Other (super-)blocks are unaffected: their error stays at the format's usual level.
    const std::vector<float> xr(x.begin() + 512, x.end()), yr(y.begin() + 512, y.end());
    EXPECT_LT(nmse(yr, xr), tc.gauss_nmse) << tc.name;
}

void beyond_f16_range(const TypeCase& tc, DType t) {
    auto x = gaussian(5);
    x[10] = 3.0e9f;
    x[700] = -1.0e12f;
    expect_finite(round_trip(t, x), tc.name);  // scales saturate instead of becoming Inf
}

void tiny_values(const TypeCase& tc, DType t) {
    auto x = gaussian(6);
    for (float& v : x) v *= 1e-30f;
    const auto y = round_trip(t, x);
    expect_finite(y, tc.name);
    // f16 scales cannot hold 1e-30: such rows decode to (about) zero, never to garbage.
    for (size_t i = 0; i < x.size(); ++i) ASSERT_LE(std::fabs(y[i] - x[i]), 1e-29f) << tc.name << " " << i;
}

void negative_only_rows(const TypeCase& tc, DType t) {
    auto x = gaussian(7);
    for (float& v : x) v = -std::fabs(v) - 0.25f;
    const auto y = round_trip(t, x);
    expect_finite(y, tc.name);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_LE(y[i], 1e-3f) << tc.name << " " << i;
    EXPECT_LT(nmse(y, x), tc.gauss_nmse) << tc.name;
}

void run_awkward_inputs(const char* name) {
    for (const TypeCase& c : kTypes) {
        if (std::string(c.name) != name) continue;
        const DType t = dtype_from_name(c.name).value();
        gaussian_rows(c, t);
        zeros_stay_zero(c, t);
        constant_rows(c, t);
        one_huge_outlier(c, t);
        beyond_f16_range(c, t);
        tiny_values(c, t);
        negative_only_rows(c, t);
        return;
    }
    FAIL() << "no case for " << name;
}

// One test per quantized type: QuantRoundTrip.<type>.
#define KILN_QUANT_ROUND_TRIP(type) \
    TEST(QuantRoundTrip, type) { run_awkward_inputs(#type); }

KILN_QUANT_ROUND_TRIP(q4_0)
KILN_QUANT_ROUND_TRIP(q4_1)
KILN_QUANT_ROUND_TRIP(q5_0)
KILN_QUANT_ROUND_TRIP(q5_1)
KILN_QUANT_ROUND_TRIP(q8_0)
KILN_QUANT_ROUND_TRIP(iq4_nl)
KILN_QUANT_ROUND_TRIP(q2_K)
KILN_QUANT_ROUND_TRIP(q3_K)
KILN_QUANT_ROUND_TRIP(q4_K)
KILN_QUANT_ROUND_TRIP(q5_K)
KILN_QUANT_ROUND_TRIP(q6_K)
KILN_QUANT_ROUND_TRIP(q8_K)

TEST(QuantRoundTrip, Q8KFormat) {
    const auto x = gaussian(11);
    std::vector<BlockQ8_K> blocks(kN / kQK_K);
    quantize_q8_k(x.data(), blocks.data(), static_cast<int64_t>(blocks.size()));
    for (size_t b = 0; b < blocks.size(); ++b) {
        float amax = 0.0f;
        for (int j = 0; j < kQK_K; ++j) amax = std::max(amax, std::fabs(x[b * kQK_K + j]));
        EXPECT_FLOAT_EQ(blocks[b].d, amax / 127.0f);
        int max_code = 0;
        for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) {
                const int q = blocks[b].qs[16 * g + j];
                ASSERT_GE(q, -127);
                max_code = std::max(max_code, std::abs(q));
                sum += q;
                ASSERT_EQ(q, static_cast<int>(std::nearbyint(x[b * kQK_K + 16 * g + j] / blocks[b].d)));
            }
            EXPECT_EQ(blocks[b].bsums[g], sum) << "block " << b << " group " << g;
        }
        EXPECT_EQ(max_code, 127);
    }
}

TEST(QuantRoundTrip, Q8_0CodesAreSymmetric) {
    auto x = gaussian(12);
    for (size_t i = 0; i < x.size(); i += 32) x[i] = -8.0f;  // the extreme of every block negative
    std::vector<BlockQ8_0> blocks(kN / kQK);
    quantize_q8_0(x.data(), blocks.data(), static_cast<int64_t>(blocks.size()));
    for (const auto& b : blocks) {
        for (int8_t q : b.qs) ASSERT_NE(q, -128);
    }
}

TEST(QuantRoundTrip, I32ConvertsValues) {
    const std::vector<float> x = {0.0f, 1.5f, 2.5f, -7.0f, 1e12f, -1e12f, NAN, 123456.0f};
    std::vector<int32_t> q(x.size());
    quantize_row(DType::I32, x.data(), q.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(q, (std::vector<int32_t>{0, 2, 2, -7, INT32_MAX, INT32_MIN, 0, 123456}));
    std::vector<float> y(x.size());
    dequantize_row(DType::I32, q.data(), y.data(), static_cast<int64_t>(q.size()));
    EXPECT_EQ(y[3], -7.0f);
    EXPECT_EQ(y[7], 123456.0f);
}

TEST(QuantErrors, RowNotMultipleOfBlockNamesDtype) {
    std::vector<float> x(300, 1.0f);
    std::vector<uint8_t> q(4096);
    try {
        quantize_row(DType::Q4_K, x.data(), q.data(), 300);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("q4_K"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
    }
    try {
        dequantize_row(DType::Q8_0, q.data(), x.data(), 33);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("q8_0"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("33"), std::string::npos) << e.what();
    }
    EXPECT_THROW(quantize_row(DType::IQ4_NL, x.data(), q.data(), 16), Error);
    EXPECT_THROW(dequantize_row(DType::F16, q.data(), x.data(), -2), Error);
    EXPECT_NO_THROW(quantize_row(DType::F16, x.data(), q.data(), 7));  // plain types: any n
}

TEST(QuantErrors, NonComputableDtypeNamed) {
    std::vector<float> x(256, 1.0f);
    std::vector<uint8_t> q(4096);
    try {
        dequantize_row(DType::IQ2_XXS, q.data(), x.data(), 256);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("iq2_xxs"), std::string::npos) << e.what();
    }
    EXPECT_THROW(quantize_row(DType::Q8_1, x.data(), q.data(), 256), Error);
}

}  // namespace
}  // namespace kiln
