// The read-bandwidth measurement `kiln devices` prints: a finite, plausible number for any
// thread count, and the CPUID view of AMX is self-consistent.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/memory_bandwidth.h"

namespace kiln {
namespace {

TEST(MemoryBandwidth, IsAPlausibleRate) {
    for (int threads : {1, 2, 3}) {
        const double gbs = measure_read_bandwidth(threads, size_t{32} << 20, 2);
        EXPECT_TRUE(std::isfinite(gbs)) << threads;
        // Any machine kiln runs on reads more than 0.2 GB/s and less than 10 TB/s.
        EXPECT_GT(gbs, 0.2) << threads;
        EXPECT_LT(gbs, 10000.0) << threads;
    }
    EXPECT_GT(measure_read_bandwidth(0, 1000, 1), 0.0);  // clamped to one thread, a tiny buffer
}

TEST(CpuFeatures, AmxMultipliesNeedTiles) {
    const CpuAmx amx = detect_cpu_amx();
    if (amx.int8 || amx.bf16) {
        EXPECT_TRUE(amx.tile);
    }
    if (!amx.tile) GTEST_SKIP() << "this CPU has no AMX";
}

}  // namespace
}  // namespace kiln
