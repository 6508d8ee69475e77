// FreeRanges: what the memory plan's arena and the Vulkan memory pool carve from.
#include <gtest/gtest.h>

#include "graph/free_ranges.h"

namespace kiln {
namespace {

TEST(FreeRanges, SmallestFitAlignedAndMergedAgain) {
    FreeRanges f;
    f.release(0, 100);
    f.release(200, 40);
    // The smallest range that holds 30 bytes is the 40 at 200.
    EXPECT_EQ(f.take(30), 200u);
    // 16-aligned: 64 bytes from 0 (the rest of [230, 240) is too small).
    EXPECT_EQ(f.take(64, 16), 0u);
    // [64, 100) and [230, 240) are left: 8 bytes aligned to 32 start at 64, 40 bytes fit nowhere.
    EXPECT_EQ(f.take(40), std::nullopt);
    EXPECT_EQ(f.take(8, 32), 64u);
    // Given back, neighbours merge: [0, 100) is whole again and holds 100.
    f.release(64, 8);
    f.release(0, 64);
    EXPECT_EQ(f.take(100), 0u);
    EXPECT_EQ(f.take(10), 230u);
    EXPECT_EQ(f.take(1), std::nullopt);
}

TEST(FreeRanges, TakeEndingAt) {
    FreeRanges f;
    f.release(10, 20);
    f.release(50, 10);
    EXPECT_EQ(f.take_ending_at(30), std::nullopt);  // not the last range
    EXPECT_EQ(f.take_ending_at(60), 50u);
    EXPECT_EQ(f.take_ending_at(30), 10u);
    EXPECT_EQ(f.take(1), std::nullopt);
}

}  // namespace
}  // namespace kiln
