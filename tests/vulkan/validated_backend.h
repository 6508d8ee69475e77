#pragma once
// A fixture owning a Vulkan backend under the validation layer: after each test, any message
// (errors and warnings, synchronization hazards included) fails it.
#include <memory>

#include "backends/vulkan/vulkan_backend.h"
#include "vulkan_test_support.h"

namespace kiln::testing {

class ValidatedBackendTest : public ::testing::Test {
protected:
    void SetUp() override {
        KILN_REQUIRE_VULKAN();
        vk::VulkanOptions o;
        o.validation = true;
        o.validation_sink = log_.sink();
        backend_ = std::make_unique<vk::VulkanBackend>(o);
    }
    void TearDown() override {
        backend_.reset();
        std::lock_guard lock(log_.mutex);
        EXPECT_TRUE(log_.errors.empty()) << log_.errors.size() << " validation messages, first: " << log_.errors[0];
    }

    ValidationLog log_;
    std::unique_ptr<vk::VulkanBackend> backend_;
};

}  // namespace kiln::testing
