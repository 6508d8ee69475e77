// The embedded shader table (no device needed).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "graph/error.h"
#include "shaders/spirv.h"

namespace kiln {
namespace {

TEST(ShaderRegistry, AddIsEmbeddedAsSpirv) {
    const auto code = shader_spirv("binary_add");
    ASSERT_GE(code.size(), 5u);  // the SPIR-V header is five words
    EXPECT_EQ(code[0], 0x07230203u);
    EXPECT_TRUE(has_shader("binary_add"));
    const auto names = shader_names();
    EXPECT_NE(std::find(names.begin(), names.end(), "binary_add"), names.end());
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(ShaderRegistry, UnknownNameIsACleanError) {
    EXPECT_FALSE(has_shader("no_such_shader"));
    try {
        shader_spirv("no_such_shader");
        FAIL() << "expected kiln::Error";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("no_such_shader"), std::string::npos) << message;
        EXPECT_NE(message.find("binary_add"), std::string::npos) << "should list known shaders: " << message;
    }
}

}  // namespace
}  // namespace kiln
