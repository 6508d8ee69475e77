#include "models/gguf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "backends/host_memory.h"
#include "graph/host_release.h"
#include "graph/error.h"

namespace kiln {

bool transparent_huge_pages_available() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    std::getline(f, modes);
    return modes.find("[always]") != std::string::npos || modes.find("[madvise]") != std::string::npos;
}

namespace {

// The file's `size` bytes read into fresh anonymous memory advised for huge pages; nullptr
// when that memory is refused. Throws on a read error.
uint8_t* read_resident(int fd, uint64_t size, const std::filesystem::path& path) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    ::madvise(p, size, MADV_HUGEPAGE);  // advice only: without it the copy still works
    auto* out = static_cast<uint8_t*>(p);
    for (uint64_t done = 0; done < size;) {
        const ssize_t n = ::pread(fd, out + done, static_cast<size_t>(std::min<uint64_t>(size - done, 1u << 30)),
                                  static_cast<off_t>(done));
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            ::munmap(p, size);
            throw Error(path.string() + ": cannot read: " + std::strerror(err));
        }
        done += static_cast<uint64_t>(n);
    }
    ::mprotect(p, size, PROT_READ);
    return out;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path, WeightMemory memory) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path.string() + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    // A copy larger than half of what the host can still give would crowd out the KV cache and
    // arenas (or exhaust memory); such a model stays mapped, paged in and out by the kernel.
    const std::optional<MemoryLimit> host = host_memory_limit();
    const bool fits = host && size_ <= host->bytes / 2;
    if (size_ > 0 && memory == WeightMemory::resident && fits && transparent_huge_pages_available()) {
        try {
            data_ = read_resident(fd, size_, path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        if (data_) memory_ = WeightMemory::resident;
    }
    if (size_ > 0 && !data_) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw Error(path.string() + ": cannot map: " + std::strerror(err));
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
    if (!data_) return;
    announce_host_release(data_, data_ + size_);  // backends drop their copies of these bytes
    ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), memory_(other.memory_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        memory_ = other.memory_;
    }
    return *this;
}

}  // namespace kiln
