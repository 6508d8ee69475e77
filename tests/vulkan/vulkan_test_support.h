#pragma once
// Shared by the Vulkan tests: finding a device (or explaining its absence), and a context with
// the validation layer whose messages the test can check.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/vulkan/context.h"
#include "graph/error.h"

namespace kiln::testing {

// Why no usable Vulkan device is available, or nullopt when one is. Computed once.
inline const std::optional<std::string>& vulkan_unavailable_reason() {
    static const std::optional<std::string> reason = []() -> std::optional<std::string> {
        try {
            for (const auto& device : vk::list_vulkan_devices()) {
                if (device.usable()) return std::nullopt;
            }
            return "no usable Vulkan device (Vulkan 1.2 with compute) was found";
        } catch (const Error& e) {
            return std::string(e.what());
        }
    }();
    return reason;
}

inline bool no_vulkan_allowed() {
    const char* value = std::getenv("KILN_ALLOW_NO_VULKAN");
    return value && std::strcmp(value, "1") == 0;
}

// Validation messages seen by one context, warnings as well as errors (a test expects none);
// the sink may be called from driver threads.
struct ValidationLog {
    std::mutex mutex;
    std::vector<std::string> errors;

    vk::ValidationSink sink() {
        return [this](vk::ValidationSeverity severity, std::string_view message) {
            std::lock_guard lock(mutex);
            errors.emplace_back(std::string(severity == vk::ValidationSeverity::error ? "error: " : "warning: ") +
                                std::string(message));
        };
    }
};

}  // namespace kiln::testing

// Skips (KILN_ALLOW_NO_VULKAN=1) or fails the test when there is no usable Vulkan device: CI
// installs lavapipe, so a missing device there is a real failure.
#define KILN_REQUIRE_VULKAN()                                                                                  \
    do {                                                                                                       \
        if (const auto& reason = ::kiln::testing::vulkan_unavailable_reason()) {                               \
            if (::kiln::testing::no_vulkan_allowed()) GTEST_SKIP() << "no Vulkan: " << *reason;                \
            GTEST_FAIL() << "no Vulkan: " << *reason                                                           \
                         << " (install mesa-vulkan-drivers for lavapipe, or set KILN_ALLOW_NO_VULKAN=1 to skip)"; \
        }                                                                                                      \
    } while (0)

// A test fixture with a validated context; it checks after each test that the layer (when
// installed) reported no error.
class VulkanTest : public ::testing::Test {
protected:
    void SetUp() override {
        KILN_REQUIRE_VULKAN();
        kiln::vk::ContextOptions options;
        options.validation = true;
        options.validation_sink = log_.sink();
        context_.emplace(options);
    }

    void TearDown() override {
        if (!context_) return;
        const bool validated = context_->instance().validation_enabled();
        context_.reset();  // messages from object destruction count too
        if (!validated) return;
        std::lock_guard lock(log_.mutex);
        EXPECT_TRUE(log_.errors.empty()) << log_.errors.size() << " validation errors, first: " << log_.errors[0];
    }

    const kiln::vk::Device& device() const { return context_->device(); }
    const kiln::vk::Context& context() const { return *context_; }

    kiln::testing::ValidationLog log_;
    std::optional<kiln::vk::Context> context_;
};
