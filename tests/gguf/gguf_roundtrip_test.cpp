// The writer and reader agree: what is written is read back, value for value, byte for byte.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/gguf/gguf_writer.h"

namespace kiln {
namespace {

GgufWriter writer_with_every_type() {
    GgufWriter w;
    w.set("general.architecture", std::string("llama"));
    w.set("t.u8", uint8_t{250});
    w.set("t.i8", int8_t{-7});
    w.set("t.u16", uint16_t{65000});
    w.set("t.i16", int16_t{-32000});
    w.set("t.u32", uint32_t{4000000000u});
    w.set("t.i32", int32_t{-2000000000});
    w.set("t.f32", 3.25f);
    w.set("t.bool", true);
    w.set("t.string", std::string("héllo wörld ✓"));
    w.set("t.u64", uint64_t{18446744073709551615ull});
    w.set("t.i64", int64_t{-9000000000000000000ll});
    w.set("t.f64", 2.718281828459045);
    w.set("t.strings", gguf_string_array({"a", "", "ünïcode", "<0x0A>"}));
    w.set("t.floats", gguf_f32_array({1.0f, -2.5f, 1e-30f}));
    GgufArray nested(GgufType::ARRAY);
    nested.push_back(GgufValue(GgufArray{GgufType::I32, {GgufValue(int32_t{1}), GgufValue(int32_t{2})}}));
    nested.push_back(GgufValue(GgufArray(GgufType::I32)));
    w.set("t.nested", nested);
    w.set("t.empty", GgufValue(GgufArray(GgufType::STRING)));
    return w;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
    return v;
}

TEST(GgufRoundTrip, EveryValueTypeComesBackEqual) {
    GgufWriter w = writer_with_every_type();
    std::vector<uint8_t> bytes = w.to_bytes();
    GgufFile f = GgufFile::parse(bytes, "mem.gguf");
    EXPECT_EQ(f.version(), 3u);
    ASSERT_EQ(f.metadata().size(), 17u);
    EXPECT_EQ(f.metadata()[0].key, "general.architecture");  // insertion order kept

    GgufFile again = GgufFile::parse(writer_with_every_type().to_bytes(), "again");
    for (size_t i = 0; i < f.metadata().size(); ++i) {
        EXPECT_EQ(f.metadata()[i].key, again.metadata()[i].key);
        EXPECT_TRUE(f.metadata()[i].value == again.metadata()[i].value) << f.metadata()[i].key;
    }
    EXPECT_EQ(*f.get_uint("t.u32"), 4000000000u);
    EXPECT_EQ(*f.get_int("t.i64"), -9000000000000000000ll);
    EXPECT_EQ(*f.get_uint("t.u64"), 18446744073709551615ull);
    EXPECT_EQ(*f.get_string("t.string"), "héllo wörld ✓");
    EXPECT_DOUBLE_EQ(*f.get_float("t.f64"), 2.718281828459045);
    EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("t.f32")), 3.25f);
    EXPECT_EQ(*f.get_bool("t.bool"), true);
    const GgufArray* nested = f.get_array("t.nested", GgufType::ARRAY);
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->size(), 2u);
    EXPECT_EQ(nested->array(0).size(), 2u);
    EXPECT_EQ(std::get<int32_t>(nested->array(0)[1]), 2);
    EXPECT_TRUE(nested->array(1).empty());
    const GgufArray* floats = f.get_array("t.floats", GgufType::F32);
    ASSERT_NE(floats, nullptr);
    EXPECT_EQ(std::get<float>((*floats)[2]), 1e-30f);
}

TEST(GgufRoundTrip, TypedLookupsRejectTheWrongType) {
    std::vector<uint8_t> bytes = writer_with_every_type().to_bytes();
    GgufFile f = GgufFile::parse(bytes, "mem.gguf");
    EXPECT_FALSE(f.get_uint("no.such.key").has_value());
    EXPECT_THROW(f.get_uint("t.string"), Error);
    EXPECT_THROW(f.get_uint("t.i8"), Error);  // negative
    EXPECT_THROW(f.get_string("t.u32"), Error);
    EXPECT_THROW(f.get_bool("t.u8"), Error);
    EXPECT_THROW(f.get_array("t.strings", GgufType::I32), Error);
    try {
        f.get_string("t.u32");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("t.u32"), std::string::npos) << e.what();
    }
}

TEST(GgufRoundTrip, TensorBytesAndAlignment) {
    for (uint32_t alignment : {32u, 64u, 4096u}) {
        GgufWriter w;
        w.set("general.alignment", alignment);
        auto a = pattern(4 * 3 * 5, 1);  // f32 [3, 5]
        auto b = pattern(34 * 2, 9);     // q8_0 [32, 2]
        auto c = pattern(2 * 7, 200);    // f16 [7]
        w.add_tensor("a", DType::F32, {3, 5}, a);
        w.add_tensor("b", DType::Q8_0, {32, 2}, b);
        w.add_tensor("c", DType::F16, {7}, c);
        std::vector<uint8_t> bytes = w.to_bytes();
        GgufFile f = GgufFile::parse(bytes, "mem.gguf");
        EXPECT_EQ(f.alignment(), alignment);
        EXPECT_EQ(f.data_offset() % alignment, 0u);
        ASSERT_EQ(f.tensors().size(), 3u);
        const std::vector<uint8_t>* expected[] = {&a, &b, &c};
        for (size_t i = 0; i < 3; ++i) {
            const GgufTensorInfo& t = f.tensors()[i];
            EXPECT_EQ(t.offset % alignment, 0u) << t.name;
            auto data = f.tensor_data(t);
            EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), *expected[i]) << t.name;
        }
        EXPECT_EQ(f.find_tensor("b")->type, DType::Q8_0);
        EXPECT_EQ(f.find_tensor("b")->dims, (std::vector<uint64_t>{32, 2}));
        EXPECT_EQ(f.find_tensor("a")->n_elements, 15u);
        EXPECT_EQ(f.find_tensor("nope"), nullptr);
    }
}

TEST(GgufRoundTrip, WriterRejectsInconsistentTensors) {
    GgufWriter w;
    auto data = pattern(16, 0);
    EXPECT_THROW(w.add_tensor("x", DType::F32, {5}, data), Error);      // 20 bytes expected
    EXPECT_THROW(w.add_tensor("x", DType::Q4_0, {16}, data), Error);    // not a whole block
    w.add_tensor("x", DType::F32, {4}, data);
    EXPECT_THROW(w.add_tensor("x", DType::F32, {4}, data), Error);      // duplicate name
}

TEST(GgufRoundTrip, FileOnDiskMatchesMemoryAndFailuresLeaveNothing) {
    const auto dir = std::filesystem::temp_directory_path() / ("kiln-gguf-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    GgufWriter w = writer_with_every_type();
    w.add_tensor("t", DType::F32, {8}, pattern(32, 3));
    const auto path = dir / "model.gguf";
    w.write(path);
    GgufFile f = GgufFile::open(path);
    EXPECT_EQ(f.file_size(), w.to_bytes().size());
    EXPECT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.name(), path.string());

    // Writing into a missing folder fails cleanly and leaves no partial file.
    const auto bad = dir / "missing" / "model.gguf";
    EXPECT_THROW(w.write(bad), Error);
    EXPECT_FALSE(std::filesystem::exists(bad));
    std::filesystem::path partial = bad;
    partial += ".partial";
    EXPECT_FALSE(std::filesystem::exists(partial));
    std::filesystem::remove_all(dir);
}

TEST(GgufRoundTrip, FilledTensorsStreamAndAFailingFillLeavesNothing) {
    const auto dir = std::filesystem::temp_directory_path() / ("kiln-gguf-fill-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    GgufWriter w;
    w.add_tensor("a", DType::F32, {3}, pattern(12, 1));
    w.add_tensor("b", DType::F32, {5}, [](std::span<uint8_t> out) {
        ASSERT_EQ(out.size(), 20u);
        for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7);
    });
    const auto path = dir / "filled.gguf";
    w.write(path);
    GgufFile f = GgufFile::open(path);
    ASSERT_EQ(f.tensors().size(), 2u);
    const auto b = f.tensor_data(f.tensors()[1]);
    ASSERT_EQ(b.size(), 20u);
    EXPECT_EQ(b[19], static_cast<uint8_t>(19 * 7));
    EXPECT_EQ(std::filesystem::file_size(path), w.to_bytes().size());

    // A fill that throws (a quantizer refusing a tensor, say) leaves neither file nor partial.
    GgufWriter bad;
    bad.add_tensor("c", DType::F32, {2}, [](std::span<uint8_t>) { throw Error("fill failed for 'c'"); });
    const auto out = dir / "bad.gguf";
    EXPECT_THROW(bad.write(out), Error);
    EXPECT_FALSE(std::filesystem::exists(out));
    std::filesystem::path partial = out;
    partial += ".partial";
    EXPECT_FALSE(std::filesystem::exists(partial));
    std::filesystem::remove_all(dir);
}

TEST(GgufRoundTrip, OpenMissingFileNamesIt) {
    try {
        GgufFile::open("/nonexistent/kiln/model.gguf");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/kiln/model.gguf"), std::string::npos);
    }
}

}  // namespace
}  // namespace kiln
