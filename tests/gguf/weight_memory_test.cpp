// Where a model file's bytes live (models/gguf/mapped_file.h): a map of the file, or a copy read
// into memory advised for huge pages. Both give the file's bytes; the copy is made only where
// the kernel has transparent huge pages and the file is small beside the memory available.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "graph/error.h"
#include "models/gguf/mapped_file.h"

namespace kiln {
namespace {

std::filesystem::path write_file(const std::vector<uint8_t>& bytes) {
    const auto path = std::filesystem::temp_directory_path() / ("kiln_weight_memory_" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
    return path;
}

TEST(WeightMemory, ResidentAndMappedHoldTheFilesBytes) {
    std::vector<uint8_t> bytes(3 * (1u << 20) + 12345);  // over one 2 MiB page, not a whole number of them
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    const auto path = write_file(bytes);
    const MappedFile mapped(path, WeightMemory::mapped);
    const MappedFile resident(path, WeightMemory::resident);
    std::filesystem::remove(path);
    EXPECT_EQ(mapped.memory(), WeightMemory::mapped);
    EXPECT_EQ(resident.memory(),
              transparent_huge_pages_available() ? WeightMemory::resident : WeightMemory::mapped);
    ASSERT_EQ(resident.size(), bytes.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), mapped.bytes().begin()));
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), resident.bytes().begin()));
}

TEST(WeightMemory, MissingFileNamesThePath) {
    for (WeightMemory m : {WeightMemory::mapped, WeightMemory::resident}) {
        try {
            MappedFile f("/nonexistent/kiln/model.gguf", m);
            FAIL() << "no error";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("/nonexistent/kiln/model.gguf: cannot open"), std::string::npos) << e.what();
        }
    }
}

TEST(WeightMemory, EmptyFileHasNoBytes) {
    const auto path = write_file({});
    const MappedFile f(path, WeightMemory::resident);
    std::filesystem::remove(path);
    EXPECT_EQ(f.size(), 0u);
}

}  // namespace
}  // namespace kiln
