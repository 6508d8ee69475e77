// The table of kernel sizes per device class: each device gets its class's row, every row is
// something every kernel can be built with, and the device's description (`kiln devices`)
// prints the row it gets.
#include <gtest/gtest.h>

#include "backends/vulkan/kernel_shapes.h"
#include "vulkan/validated_backend.h"

namespace kiln::vk {
namespace {

bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

TEST(KernelShapes, ClassesByVendorAndType) {
    EXPECT_EQ(device_class(0x10DE, false), DeviceClass::nvidia);
    EXPECT_EQ(device_class(0x1002, false), DeviceClass::amd);
    EXPECT_EQ(device_class(0x8086, false), DeviceClass::intel);
    EXPECT_EQ(device_class(0x10005, true), DeviceClass::cpu);  // Mesa's vendor id, a CPU device
    EXPECT_EQ(device_class(0x8086, true), DeviceClass::cpu);   // a CPU implementation wins over its vendor
    EXPECT_EQ(device_class(0x13B5, false), DeviceClass::other);
}

TEST(KernelShapes, EveryRowBuildsEveryKernel) {
    for (DeviceClass c : {DeviceClass::nvidia, DeviceClass::amd, DeviceClass::intel, DeviceClass::cpu,
                          DeviceClass::other}) {
        const KernelShapes& s = kernel_shapes(c);
        const std::string name(to_string(c));
        // Workgroup sizes feed shared-memory trees and grid strides: powers of two, <= 1024
        // (the larger of Vulkan's guaranteed limits a row may assume; supports() checks the device).
        for (uint32_t wg : {s.flat_workgroup, s.rope_workgroup, s.set_rows_workgroup, s.get_rows_workgroup,
                            s.attention_tile, s.attention_reduce_workgroup, s.vec_min_invocations,
                            s.vec_max_invocations}) {
            EXPECT_TRUE(power_of_two(wg) && wg <= 1024) << name << ": " << wg;
        }
        EXPECT_LE(s.vec_min_invocations, s.vec_max_invocations) << name;
        EXPECT_GE(s.attention_tile, 64u) << name << ": head sizes up to 256 need dv / 4 <= tile";
        EXPECT_GT(s.lanes_rows_decode * s.lanes_rows * s.lanes_cols * s.vec_rows, 0u) << name;
        EXPECT_TRUE(s.vec_max_cols >= 1 && s.vec_max_cols <= 8) << name << ": vec's column blocks are 1, 2, 4 or 8";
        const TileShape& t = s.tiles;
        EXPECT_TRUE(t.bm % t.tm == 0 && t.bn % t.tn == 0 && t.bk > 0) << name;
        EXPECT_LE(t.invocations(), 1024u) << name;
        EXPECT_LE(t.shared_bytes(), 32u << 10) << name << ": tiles must fit common devices' shared memory";
        EXPECT_NE(describe(s).find("tiles " + std::to_string(t.bm) + "x" + std::to_string(t.bn)), std::string::npos);
    }
}

class KernelShapesDevice : public testing::ValidatedBackendTest {};

TEST_F(KernelShapesDevice, TheDeviceGetsItsClassRow) {
    const DeviceInfo& info = backend_->info();
    EXPECT_EQ(info.device_class, device_class(info.vendor_id, info.type == DeviceType::cpu));
    EXPECT_EQ(describe(info.shapes), describe(kernel_shapes(info.device_class)));
    const std::string text = describe(info);
    EXPECT_NE(text.find("\n    kernels (" + std::string(to_string(info.device_class)) + " table): " + describe(info.shapes)),
              std::string::npos) << text;
}

}  // namespace
}  // namespace kiln::vk
