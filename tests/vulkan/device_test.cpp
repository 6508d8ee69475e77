// Device enumeration, selection and context creation.
#include <gtest/gtest.h>

#include <iostream>

#include "backends/vulkan/context.h"
#include "vulkan/vulkan_test_support.h"

namespace kiln::vk {
namespace {

TEST(VulkanDevices, EnumerationReportsSaneDevices) {
    KILN_REQUIRE_VULKAN();
    const auto devices = list_vulkan_devices();
    ASSERT_FALSE(devices.empty());
    std::cout << describe_vulkan_devices(devices) << "\n";
    for (uint32_t i = 0; i < devices.size(); ++i) {
        const DeviceInfo& info = devices[i];
        EXPECT_EQ(info.index, i);
        EXPECT_FALSE(info.name.empty());
        EXPECT_NE(describe(info).find(info.name), std::string::npos);
        if (!info.usable()) continue;
        // Minimums the Vulkan spec guarantees for every device.
        EXPECT_GE(info.max_workgroup_invocations, 128u);
        EXPECT_GE(info.max_workgroup_size[0], 128u);
        EXPECT_GE(info.max_workgroup_count[0], 65535u);
        EXPECT_GE(info.max_shared_memory, 16384u);
        EXPECT_GE(info.max_push_constants, 128u);
        EXPECT_GE(info.subgroup_size, 1u);
        EXPECT_LE(info.min_subgroup_size, info.max_subgroup_size);
        EXPECT_FALSE(info.heaps.empty());
        EXPECT_GE(info.api_version, VK_API_VERSION_1_2);
    }
}

TEST(VulkanDevices, DefaultContextUsesAUsableDevice) {
    KILN_REQUIRE_VULKAN();
    const Context context;
    EXPECT_TRUE(context.info().usable());
    EXPECT_NE(context.device().handle(), VK_NULL_HANDLE);
    EXPECT_NE(context.device().queue(), VK_NULL_HANDLE);
}

TEST(VulkanDevices, OutOfRangeIndexNamesTheIndex) {
    KILN_REQUIRE_VULKAN();
    const auto count = static_cast<uint32_t>(list_vulkan_devices().size());
    try {
        ContextOptions options;
        options.device_index = count + 41;
        const Context context(options);
        FAIL() << "expected kiln::Error";
    } catch (const kiln::Error& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(count + 41)), std::string::npos) << e.what();
    }
}

DeviceInfo fake_device(uint32_t index, DeviceType type, bool usable = true) {
    DeviceInfo info;
    info.index = index;
    info.name = "fake " + std::to_string(index);
    info.type = type;
    info.api_version = usable ? VK_API_VERSION_1_3 : VK_API_VERSION_1_1;
    info.has_compute_queue = true;
    return info;
}

TEST(VulkanDeviceSelection, PrefersDiscreteThenIntegratedThenVirtualThenCpu) {
    EXPECT_EQ(select_device({fake_device(0, DeviceType::cpu), fake_device(1, DeviceType::discrete_gpu),
                             fake_device(2, DeviceType::integrated_gpu)},
                            std::nullopt),
              1u);
    EXPECT_EQ(select_device({fake_device(0, DeviceType::cpu), fake_device(1, DeviceType::virtual_gpu)}, std::nullopt),
              1u);
    EXPECT_EQ(select_device({fake_device(0, DeviceType::cpu), fake_device(1, DeviceType::integrated_gpu)}, std::nullopt),
              1u);
    // Unusable devices are skipped, and ties go to the first.
    EXPECT_EQ(select_device({fake_device(0, DeviceType::discrete_gpu, false), fake_device(1, DeviceType::cpu),
                             fake_device(2, DeviceType::cpu)},
                            std::nullopt),
              1u);
}

TEST(VulkanDeviceSelection, ExplicitIndexIsCheckedAndHonoured) {
    const std::vector<DeviceInfo> devices = {fake_device(0, DeviceType::discrete_gpu), fake_device(1, DeviceType::cpu),
                                             fake_device(2, DeviceType::cpu, false)};
    EXPECT_EQ(select_device(devices, 1u), 1u);
    EXPECT_THROW(select_device(devices, 2u), kiln::Error);
    EXPECT_THROW(select_device(devices, 3u), kiln::Error);
    EXPECT_THROW(select_device({}, std::nullopt), kiln::Error);
}

}  // namespace
}  // namespace kiln::vk
