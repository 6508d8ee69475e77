// f16 and bf16 conversions: exhaustive round trips, nearest-even rounding, specials.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "graph/quant/half.h"

namespace kiln {
namespace {

bool f16_is_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

// f16 value computed independently of half.h: (-1)^s * 2^(e-15) * (1 + m/1024), or subnormal.
double f16_reference(uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    const double mag = e == 0 ? std::ldexp(m, -24) : e == 31 ? INFINITY : std::ldexp(1024 + m, e - 25);
    return s ? -mag : mag;
}

TEST(Half, F16ExhaustiveRoundTrip) {
    for (uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<uint16_t>(i);
        const float f = f16_to_f32(h);
        if (f16_is_nan(h)) {
            ASSERT_TRUE(std::isnan(f)) << std::hex << i;
            const uint16_t back = f32_to_f16(f);
            ASSERT_TRUE(f16_is_nan(back)) << std::hex << i;
            ASSERT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << i;
            continue;
        }
        ASSERT_EQ(static_cast<double>(f), f16_reference(h)) << std::hex << i;
        ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << i;
        ASSERT_EQ(f32_to_f16(f), h) << std::hex << i;
    }
}

TEST(Half, F16RoundsToNearestEven) {
    const float ulp1 = std::ldexp(1.0f, -10);  // f16 spacing just above 1
    EXPECT_EQ(f32_to_f16(1.0f + ulp1 / 2), 0x3c00);      // tie -> even (1.0)
    EXPECT_EQ(f32_to_f16(1.0f + 3 * ulp1 / 2), 0x3c02);  // tie -> even (1 + 2 ulp)
    EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + ulp1 / 2, 2.0f)), 0x3c01);
    EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + ulp1 / 2, 0.0f)), 0x3c00);
    EXPECT_EQ(f32_to_f16(-1.0f - ulp1 / 2), 0xbc00);
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // tie with odd max -> Inf
    EXPECT_EQ(f32_to_f16(1e30f), 0x7c00);
    EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
    // Subnormals (units of 2^-24) and the edges of the range.
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
    EXPECT_EQ(f32_to_f16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 units: tie -> 2
    EXPECT_EQ(f32_to_f16(std::ldexp(5.0f, -25)), 0x0002);  // 2.5 units: tie -> 2
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -25)), 0x0400);  // -> min normal
    EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -26)), 0x8000);
    EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
    EXPECT_TRUE(f16_is_nan(f32_to_f16(NAN)));
    EXPECT_TRUE(f16_is_nan(f32_to_f16(std::bit_cast<float>(0x7f800001u))));  // payload in low bits
}

TEST(Half, F16IsNearestOnRandomFloats) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> expo(-27.0f, 15.0f);
    for (int i = 0; i < 200000; ++i) {
        const float f = std::ldexp(1.0f + static_cast<float>(rng() & 0xffffff) / 16777216.0f, static_cast<int>(expo(rng))) *
                        ((rng() & 1) ? -1.0f : 1.0f);
        const uint16_t h = f32_to_f16(f);
        const double got = f16_reference(h);
        ASSERT_TRUE(std::isfinite(got)) << f;
        // No f16 neighbour of h is strictly closer; on a tie the even code wins.
        for (int delta : {-1, 1}) {
            const uint16_t nb = static_cast<uint16_t>(h + delta);
            if ((nb & 0x7fff) >= 0x7c00 || ((h & 0x7fff) == 0 && delta < 0)) continue;
            const double other = f16_reference(nb);
            const double e0 = std::fabs(got - f), e1 = std::fabs(other - f);
            ASSERT_TRUE(e0 < e1 || (e0 == e1 && (h & 1) == 0)) << f << " -> " << std::hex << h;
        }
    }
}

TEST(Half, Bf16ExhaustiveRoundTrip) {
    for (uint32_t i = 0; i < 65536; ++i) {
        const auto b = static_cast<uint16_t>(i);
        const float f = bf16_to_f32(b);
        const bool nan = (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0;
        if (nan) {
            ASSERT_TRUE(std::isnan(f)) << std::hex << i;
            const uint16_t back = f32_to_bf16(f);
            ASSERT_TRUE((back & 0x7f80u) == 0x7f80u && (back & 0x40u) != 0) << std::hex << i;  // quiet NaN
            continue;
        }
        ASSERT_EQ(std::bit_cast<uint32_t>(f), static_cast<uint32_t>(b) << 16) << std::hex << i;
        ASSERT_EQ(f32_to_bf16(f), b) << std::hex << i;
    }
}

TEST(Half, Bf16RoundsToNearestEven) {
    auto bf = [](uint32_t bits) { return f32_to_bf16(std::bit_cast<float>(bits)); };
    EXPECT_EQ(bf(0x3f808000u), 0x3f80);  // tie -> even
    EXPECT_EQ(bf(0x3f818000u), 0x3f82);  // tie -> even (up)
    EXPECT_EQ(bf(0x3f808001u), 0x3f81);
    EXPECT_EQ(bf(0x3f807fffu), 0x3f80);
    EXPECT_EQ(bf(0xbf808000u), 0xbf80);
    EXPECT_EQ(bf(0x7f7fffffu), 0x7f80);  // max float rounds to Inf
    EXPECT_EQ(bf(0x00008000u), 0x0000);  // subnormal tie -> even
    EXPECT_EQ(bf(0x00018000u), 0x0002);
    EXPECT_EQ(bf(0x7f800000u), 0x7f80);
    EXPECT_EQ(bf(0x7f800001u), 0x7fc0);  // signalling NaN with low payload stays NaN, quiet
    EXPECT_EQ(bf(0xffc00000u), 0xffc0);
}

}  // namespace
}  // namespace kiln
