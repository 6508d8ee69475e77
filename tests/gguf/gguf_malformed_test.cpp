// Files from strangers: every malformed header gives one clear kiln::Error, never a crash,
// a hang or an allocation sized by an unchecked field.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"
#include "support/gguf_bytes.h"

namespace kiln {
namespace {

using testing::GgufBytes;
constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

// Parses and returns the error message ("" when the file was accepted).
std::string parse_error(const std::vector<uint8_t>& bytes) {
    try {
        GgufFile::parse(bytes, "bad.gguf");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_REJECTED(bytes, fragment)                                                     \
    do {                                                                                     \
        std::string msg_ = parse_error(bytes);                                               \
        EXPECT_FALSE(msg_.empty()) << "accepted a malformed file";                          \
        EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_;           \
        EXPECT_EQ(msg_.find('\n'), std::string::npos) << "message is not one line: " << msg_; \
        EXPECT_EQ(msg_.rfind("bad.gguf: ", 0), 0u) << "message does not name the file: " << msg_; \
    } while (0)

// A valid file: two keys, two f32 tensors whose data ends on an alignment boundary (so any
// truncation cuts something the reader needs).
std::vector<uint8_t> valid_file() {
    GgufWriter w;
    w.set("general.architecture", std::string("llama"));
    w.set("general.name", std::string("tiny"));
    w.set("tokens", gguf_string_array({"a", "b", "c"}));
    std::vector<uint8_t> data(4 * 8 * 2, 1);
    w.add_tensor("first", DType::F32, {8, 2}, data);
    w.add_tensor("second", DType::F32, {8, 2}, data);
    return w.to_bytes();
}

TEST(GgufMalformed, ValidBaselineIsAccepted) { EXPECT_EQ(parse_error(valid_file()), ""); }

TEST(GgufMalformed, TruncatedAtEveryByteIsRejected) {
    const std::vector<uint8_t> full = valid_file();
    for (size_t n = 0; n < full.size(); ++n) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_NE(parse_error(cut), "") << "accepted a file truncated to " << n << " of " << full.size() << " bytes";
    }
}

TEST(GgufMalformed, BadMagicAndVersions) {
    std::vector<uint8_t> b = valid_file();
    b[0] = 'X';
    EXPECT_REJECTED(b, "bad magic");
    for (uint32_t version : {0u, 4u, 0x03000000u}) {
        EXPECT_REJECTED(GgufBytes().raw<uint32_t>(0x46554747).raw<uint32_t>(version).raw<uint64_t>(0).raw<uint64_t>(0).bytes,
                        "unsupported GGUF version");
    }
    EXPECT_REJECTED(GgufBytes().raw<uint32_t>(0x46554747).raw<uint32_t>(0x03000000).raw<uint64_t>(0).raw<uint64_t>(0).bytes,
                    "big-endian");
    EXPECT_REJECTED((std::vector<uint8_t>{'G', 'G'}), "too small");
}

TEST(GgufMalformed, AbsurdCounts) {
    EXPECT_REJECTED(GgufBytes().header(kHuge, 0).bytes, "tensor count");
    EXPECT_REJECTED(GgufBytes().header(0, kHuge).bytes, "metadata count");
    EXPECT_REJECTED(GgufBytes().header(1000, 0).zeros(64).bytes, "tensor count");
}

TEST(GgufMalformed, AbsurdStringAndArrayLengths) {
    EXPECT_REJECTED(GgufBytes().header(0, 1).count(kHuge).zeros(64).bytes, "string of");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(8).count(kHuge).bytes, "key 'k'");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(9).raw<uint32_t>(4).count(kHuge).bytes,
                    "array of 18446744073709551615 u32");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(9).raw<uint32_t>(8).count(1u << 30).bytes,
                    "array of 1073741824 string");
    // Arrays of arrays declaring huge inner lengths.
    EXPECT_REJECTED(
        GgufBytes().header(0, 1).str("k").raw<uint32_t>(9).raw<uint32_t>(9).count(1).raw<uint32_t>(6).count(kHuge).bytes,
        "key 'k'");
}

TEST(GgufMalformed, BadValueTypes) {
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(13).raw<uint32_t>(0).bytes, "unknown value type 13");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(9).raw<uint32_t>(77).count(0).bytes,
                    "unknown value type 77");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("k").raw<uint32_t>(7).raw<uint8_t>(2).bytes, "bool value 2");
    GgufBytes deep;
    deep.header(0, 1).str("k");
    deep.raw<uint32_t>(9);
    for (int i = 0; i < 20; ++i) deep.raw<uint32_t>(9).count(1);
    deep.raw<uint32_t>(4).count(0);
    EXPECT_REJECTED(deep.bytes, "nested deeper");
}

TEST(GgufMalformed, KeysAndStrings) {
    EXPECT_REJECTED(GgufBytes().header(0, 2).kv_u32("dup", 1).kv_u32("dup", 2).bytes, "key 'dup' appears twice");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("", 1).bytes, "empty key");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("bad\xff", 1).bytes, "not valid UTF-8");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_str("k", "over\xc0\xaflong").bytes, "not valid UTF-8");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_str("k", "surrogate\xed\xa0\x80").bytes, "not valid UTF-8");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_str("k", "cut\xe2\x82").bytes, "not valid UTF-8");
    // Names are quoted in every message; a control character in one would break its line
    // (found by fuzz_gguf: tests/fuzz/corpus/gguf/newline-in-key).
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("a\nb", 1).bytes, "key 'a\\nb' holds control characters");
    EXPECT_REJECTED(GgufBytes().header(0, 1).str("a\nb").raw<uint32_t>(99).bytes, "key 'a\\nb' holds control characters");
    EXPECT_REJECTED(GgufBytes().header(1, 0).tensor("w\t\x1b", {32}, 0, 0).pad().zeros(128).bytes,
                    "tensor 'w\\t\\x1b' holds control characters");
}

TEST(GgufMalformed, Alignment) {
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("general.alignment", 0).bytes, "general.alignment");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("general.alignment", 48).bytes, "not a power of two");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_u32("general.alignment", 1u << 31).bytes, "general.alignment");
    EXPECT_REJECTED(GgufBytes().header(0, 1).kv_str("general.alignment", "32").bytes, "expected u32, found string");
}

// One f32 tensor [8] at `offset`, with `data_bytes` of data after the aligned header.
std::vector<uint8_t> one_tensor(const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset, size_t data_bytes,
                                const std::string& name = "w") {
    GgufBytes b;
    b.header(1, 0).tensor(name, dims, type, offset).pad().zeros(data_bytes);
    return b.bytes;
}

TEST(GgufMalformed, TensorInfos) {
    EXPECT_EQ(parse_error(one_tensor({8}, 0, 0, 32)), "");
    EXPECT_REJECTED(one_tensor({8}, 99, 0, 32), "unknown dtype id 99");
    EXPECT_REJECTED(one_tensor({}, 0, 0, 32), "0 dimensions");
    EXPECT_REJECTED(one_tensor({1, 1, 1, 1, 1}, 0, 0, 32), "5 dimensions");
    EXPECT_REJECTED(one_tensor({0}, 0, 0, 32), "dimension 0 = 0");
    EXPECT_REJECTED(one_tensor({kHuge}, 0, 0, 32), "dimension 0");
    EXPECT_REJECTED(one_tensor({1u << 31, 1u << 31, 1u << 31}, 0, 0, 32), "overflow");
    EXPECT_REJECTED(one_tensor({1ull << 62}, 0, 0, 32), "overflow");  // bytes = 2^62 * 4
    EXPECT_REJECTED(one_tensor({33}, 2, 0, 32), "not a multiple of q4_0's block of 32");
    EXPECT_REJECTED(one_tensor({8}, 0, 64, 32), "runs past the end");
    EXPECT_REJECTED(one_tensor({8}, 0, kHuge - 31, 32), "w");  // misaligned and would wrap
    EXPECT_REJECTED(one_tensor({8}, 0, kHuge & ~uint64_t{31}, 32), "runs past the end");
    EXPECT_REJECTED(one_tensor({8}, 0, 4, 64), "not a multiple of the alignment");
    EXPECT_REJECTED(one_tensor({8}, 0, 0, 32, ""), "empty name");
    EXPECT_REJECTED(one_tensor({8}, 0, 0, 32, "na\xffme"), "not valid UTF-8");
}

TEST(GgufMalformed, DuplicateAndOverlappingTensors) {
    GgufBytes dup;
    dup.header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad().zeros(64);
    EXPECT_REJECTED(dup.bytes, "tensor 'w' appears twice");
    GgufBytes overlap;
    overlap.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(64);
    EXPECT_REJECTED(overlap.bytes, "overlaps");
    GgufBytes same;
    same.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 0).pad().zeros(32);
    EXPECT_REJECTED(same.bytes, "overlaps");
}

TEST(GgufMalformed, OlderVersionsUse32BitCounts) {
    for (uint32_t version : {1u, 2u}) {
        GgufBytes b(version);
        b.header(1, 2).kv_u32("general.alignment", 32).kv_str("general.architecture", "llama");
        b.tensor("w", {4, 2}, 0, 0).pad().zeros(32);
        GgufFile f = GgufFile::parse(b.bytes, "old.gguf");
        EXPECT_EQ(f.version(), version);
        EXPECT_EQ(*f.get_string("general.architecture"), "llama");
        ASSERT_EQ(f.tensors().size(), 1u);
        EXPECT_EQ(f.tensors()[0].dims, (std::vector<uint64_t>{4, 2}));
    }
    // In v1 a 64-bit count would be read as two 32-bit fields: lengths are checked all the same.
    EXPECT_REJECTED(GgufBytes(1).header(0, 1).raw<uint32_t>(0xFFFFFFFF).zeros(64).bytes, "string of 4294967295");
}

// Random byte corruption of a valid file: the reader either accepts it or throws kiln::Error.
// Run under the sanitizer build this catches any out-of-bounds read.
TEST(GgufMalformed, RandomCorruptionNeverCrashes) {
    const std::vector<uint8_t> full = valid_file();
    std::mt19937 rng(1234);
    int rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::vector<uint8_t> b = full;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
            size_t at = rng() % b.size();
            switch (rng() % 3) {
                case 0: b[at] = static_cast<uint8_t>(rng()); break;
                case 1: b[at] = 0xFF; break;
                default: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
            }
        }
        try {
            GgufFile f = GgufFile::parse(b, "fuzz.gguf");
            for (const GgufTensorInfo& t : f.tensors()) ASSERT_EQ(f.tensor_data(t).size(), t.n_bytes);
        } catch (const Error&) {
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 100);  // the corruption does reach the checks
}

}  // namespace
}  // namespace kiln
