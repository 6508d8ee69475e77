// What a parsed file may hold in memory: about its own metadata's bytes, however its arrays
// and counts are shaped (issue: a GGUF of u8 arrays used to cost 40 bytes per byte).
#include <gtest/gtest.h>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/gguf_bytes.h"

namespace kiln {
namespace {

using testing::GgufBytes;

// Peak heap bytes held while parsing `bytes` (the parsed file included).
long peak_heap_of_parse(const std::vector<uint8_t>& bytes) {
    testing::reset_peak_bytes();
    const long before = testing::live_bytes();
    GgufFile f = GgufFile::parse(bytes, "hostile.gguf");
    return testing::peak_bytes() - before;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
    try {
        GgufFile::parse(bytes, "hostile.gguf");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(GgufMemory, NumberArraysArePacked) {
    const size_t n = 32u << 20;
    for (uint32_t type : {0u /*u8*/, 7u /*bool*/}) {
        GgufBytes b;
        b.header(0, 1).str("big").raw<uint32_t>(9).raw<uint32_t>(type).count(n).zeros(n);
        const long peak = peak_heap_of_parse(b.bytes);
        EXPECT_LT(peak, static_cast<long>(n + n / 8 + (1 << 20))) << "type " << type << ": " << peak << " bytes";
        GgufFile f = GgufFile::parse(b.bytes, "hostile.gguf");
        EXPECT_EQ(f.find("big")->array()->size(), n);
    }
}

TEST(GgufMemory, StringArraysStayNearTheirFileSize) {
    // Empty strings are the worst case: 8 file bytes each.
    const size_t n = 4u << 20;
    GgufBytes b;
    b.header(0, 1).str("words").raw<uint32_t>(9).raw<uint32_t>(8).count(n);
    for (size_t i = 0; i < n; ++i) b.count(i % 2 ? 0 : 1).bytes.resize(b.bytes.size() + (i % 2 ? 0 : 1), 'a');
    const long peak = peak_heap_of_parse(b.bytes);
    EXPECT_LT(peak, static_cast<long>(b.bytes.size() + b.bytes.size() / 8 + (1 << 20))) << peak << " bytes for "
                                                                                         << b.bytes.size();
    GgufFile f = GgufFile::parse(b.bytes, "hostile.gguf");
    const GgufArray* a = f.get_array("words", GgufType::STRING);
    ASSERT_EQ(a->size(), n);
    EXPECT_EQ(a->string(0), "a");
    EXPECT_EQ(a->string(1), "");
    EXPECT_EQ(*(*a)[2].string(), "a");
}

TEST(GgufMemory, KeyCountIsCapped) {
    const uint64_t n = GgufFile::kMaxMetadataValues + 1;
    GgufBytes b;
    b.header(0, n);
    for (uint64_t i = 0; i < n; ++i) b.str("k" + std::to_string(i)).raw<uint32_t>(0).raw<uint8_t>(1);
    const std::string e = parse_error(b.bytes);
    EXPECT_NE(e.find("hostile.gguf: metadata count 65537: more than 65536 metadata keys and nested arrays"),
              std::string::npos) << e;
}

TEST(GgufMemory, NestedArraysCountWithTheKeys) {
    // One key holding 65536 empty arrays: 65537 objects.
    const uint64_t n = GgufFile::kMaxMetadataValues;
    GgufBytes b;
    b.header(0, 1).str("nest").raw<uint32_t>(9).raw<uint32_t>(9).count(n);
    for (uint64_t i = 0; i < n; ++i) b.raw<uint32_t>(0).count(0);
    const std::string e = parse_error(b.bytes);
    EXPECT_NE(e.find("key 'nest': more than 65536 metadata keys and nested arrays"), std::string::npos) << e;

    GgufBytes ok;
    ok.header(0, 1).str("nest").raw<uint32_t>(9).raw<uint32_t>(9).count(n - 1);
    for (uint64_t i = 0; i + 1 < n; ++i) ok.raw<uint32_t>(0).count(0);
    EXPECT_EQ(parse_error(ok.bytes), "");
}

TEST(GgufMemory, TensorCountIsCapped) {
    const uint64_t n = GgufFile::kMaxTensors + 1;
    GgufBytes b;
    b.header(n, 0);
    for (uint64_t i = 0; i < n; ++i) b.tensor("t" + std::to_string(i), {1}, 0, i * 32);
    const std::string e = parse_error(b.bytes);
    EXPECT_NE(e.find("tensor count 65537 exceeds the 65536 kiln reads"), std::string::npos) << e;
}

}  // namespace
}  // namespace kiln
