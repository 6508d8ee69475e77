// The validation layer's messages reach the context's sink (so "zero errors" checks mean something).
#include <gtest/gtest.h>

#include "backends/vulkan/descriptors.h"
#include "vulkan/vulkan_test_support.h"

namespace kiln::vk {
namespace {

TEST(VulkanValidation, ErrorsAreCounted) {
    KILN_REQUIRE_VULKAN();
    testing::ValidationLog log;
    ContextOptions options;
    options.validation = true;
    options.validation_sink = log.sink();
    const Context context(options);
    if (!context.instance().validation_enabled()) GTEST_SKIP() << "VK_LAYER_KHRONOS_validation is not installed";
    ASSERT_EQ(context.instance().validation_errors(), 0u);
    {
        // maxSets must be > 0: invalid usage the layer reports, harmless to the driver.
        const DescriptorPool invalid(context.device(), 0, 1);
    }
    EXPECT_GE(context.instance().validation_errors(), 1u);
    std::lock_guard lock(log.mutex);
    ASSERT_FALSE(log.errors.empty());
    EXPECT_NE(log.errors[0].find("maxSets"), std::string::npos) << log.errors[0];
}

}  // namespace
}  // namespace kiln::vk
