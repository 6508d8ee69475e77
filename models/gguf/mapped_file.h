#pragma once
// A whole file's bytes in memory, read-only: a memory map of the file, or a private copy in
// memory advised for transparent huge pages. Model weights are used in place from it.
#include <cstdint>
#include <filesystem>
#include <span>

namespace kiln {

// Where a model's bytes live while it runs.
enum class WeightMemory {
    // A read-only map of the file: pages shared with the page cache, which the kernel may drop
    // and read again; nothing is read until used. Right when a device holds the weights.
    mapped,
    // A private copy read at load into anonymous memory advised for 2 MiB pages (madvise
    // MADV_HUGEPAGE), where the CPU kernels read it: a weight stream then misses the TLB once
    // per 2 MiB instead of every 4 KiB page, which on the Intel VMs held a one-thread TinyLlama
    // Q4_0 decode at 15 t/s (24 t/s resident). Costs the model's size in process memory. Falls
    // back to `mapped` where transparent huge pages are off, where the file is more than half of
    // the host memory still available, or where the memory is refused.
    resident,
};

class MappedFile {
public:
    // Throws kiln::Error naming the path when the file cannot be opened, mapped or read.
    explicit MappedFile(const std::filesystem::path& path, WeightMemory memory = WeightMemory::mapped);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint64_t size() const { return size_; }
    // What the bytes are in: `resident` only when the copy was made.
    WeightMemory memory() const { return memory_; }

private:
    void release();  // announces (graph/host_release.h) and unmaps the bytes

    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
    WeightMemory memory_ = WeightMemory::mapped;
};

// Whether the kernel gives anonymous memory huge pages when asked (THP "always" or "madvise").
bool transparent_huge_pages_available();

}  // namespace kiln
