// The vector exp of the CPU kernels (fv_exp in backends/cpu/kernels/simd.h, used by silu, gelu,
// swiglu and flash attention) against std::exp in double, on every ISA this machine has.
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "cpu/cpu_test_util.h"

namespace kiln {
namespace {

using testing::available_isas;

constexpr double kMaxUlp = 2.0;

std::vector<float> exp_of(CpuIsa isa, const std::vector<float>& x) {
    std::vector<float> y(x.size());
    cpu_exp_floats(isa, x.data(), y.data(), static_cast<int64_t>(x.size()));
    return y;
}

// |got - e^x| in units in the last place of e^x as a float (normal results only).
double ulp_error(float x, float got) {
    const double ref = std::exp(static_cast<double>(x));
    const double ulp = std::ldexp(1.0, std::ilogb(ref) - 23);
    return std::abs(static_cast<double>(got) - ref) / ulp;
}

TEST(CpuExp, WithinTwoUlpOverTheNormalRange) {
    std::vector<float> x;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> wide(-87.33f, 88.72f), narrow(-1.0f, 1.0f);
    for (int i = 0; i < 400000; ++i) x.push_back(wide(rng));
    for (int i = 0; i < 100000; ++i) x.push_back(narrow(rng));
    // Each side of every rounding boundary of n = round(x / ln2), and the ends of the range.
    for (int n = -125; n <= 127; ++n) {
        const float b = static_cast<float>((n + 0.5) * 0.6931471805599453);
        float lo = b, hi = b;
        for (int k = 0; k < 4; ++k) {
            lo = std::nextafter(lo, -INFINITY);
            hi = std::nextafter(hi, INFINITY);
            x.push_back(lo);
            x.push_back(hi);
        }
    }
    for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1.0f, -1.0f, 88.7228317f, -87.3365402f, 88.0f, -87.0f})
        x.push_back(v);
    for (CpuIsa isa : available_isas()) {
        const std::vector<float> y = exp_of(isa, x);
        double worst = 0;
        float worst_x = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            ASSERT_TRUE(std::isfinite(y[i])) << isa_name(isa) << " x=" << x[i] << " gave " << y[i];
            const double e = ulp_error(x[i], y[i]);
            if (e > worst) worst = e, worst_x = x[i];
        }
        std::printf("%-7s worst %.3f ulp at x=%.9g (%zu inputs)\n", std::string(isa_name(isa)).c_str(), worst,
                    static_cast<double>(worst_x), x.size());
        EXPECT_LE(worst, kMaxUlp) << isa_name(isa) << " at x=" << worst_x;
        // e^0 is exactly 1 (softmax weights of the maximum score).
        EXPECT_EQ(exp_of(isa, {0.0f})[0], 1.0f) << isa_name(isa);
    }
}

TEST(CpuExp, EdgesInfinitiesAndNaN) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> x = {-inf, -1e30f, -1000.0f, -104.0f, -100.0f, -88.0f, -87.5f,
                                  inf,  1e30f,  1000.0f,  89.0f,   88.7228394f, std::nanf("")};
    for (CpuIsa isa : available_isas()) {
        const std::vector<float> y = exp_of(isa, x);
        const std::string name(isa_name(isa));
        for (size_t i = 0; i < x.size(); ++i) {
            if (std::isnan(x[i])) {
                EXPECT_TRUE(std::isnan(y[i])) << name << " exp(NaN) = " << y[i];
            } else if (x[i] < 0) {
                // Below ln(FLT_MIN) the vector exp flushes to 0 (expf gives a subnormal).
                EXPECT_GE(y[i], 0.0f) << name << " x=" << x[i];
                EXPECT_LE(y[i], FLT_MIN) << name << " x=" << x[i];
                EXPECT_LE(std::abs(y[i] - std::exp(static_cast<double>(x[i]))), FLT_MIN) << name << " x=" << x[i];
            } else {
                EXPECT_EQ(y[i], inf) << name << " x=" << x[i];  // e^x > FLT_MAX
            }
        }
        EXPECT_EQ(exp_of(isa, {-inf})[0], 0.0f) << name;
    }
}

// The row helper's tail (n not a multiple of the vector width) takes the same path.
TEST(CpuExp, RowTailsMatchWholeVectors) {
    std::vector<float> x = testing::random_floats(37, 3, -20.0f, 20.0f);
    for (CpuIsa isa : available_isas()) {
        const std::vector<float> all = exp_of(isa, x);
        for (size_t n = 1; n <= x.size(); ++n) {
            std::vector<float> y(n);
            cpu_exp_floats(isa, x.data(), y.data(), static_cast<int64_t>(n));
            for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], all[i]) << isa_name(isa) << " n=" << n << " i=" << i;
        }
    }
}

}  // namespace
}  // namespace kiln
