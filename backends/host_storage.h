#pragma once
// Host memory for one compiled graph: weights in place (the mmap), inputs in their own block,
// intermediates in one arena laid out by the memory planner, state (the KV cache) from a
// store shared by the graphs of one backend, views resolved to addresses.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"
#include "graph/memory_plan.h"

namespace kiln {

// 64-byte aligned, zero-initialised bytes.
class AlignedBytes {
public:
    explicit AlignedBytes(uint64_t size = 0);
    ~AlignedBytes();
    AlignedBytes(const AlignedBytes&) = delete;
    AlignedBytes& operator=(const AlignedBytes&) = delete;
    uint8_t* data() const { return ptr_; }
    uint64_t size() const { return size_; }

private:
    uint8_t* ptr_ = nullptr;
    uint64_t size_ = 0;
};

// Persistent State tensors by name, shared across the graphs of one backend.
class StateStore {
public:
    // Throws kiln::Error when `name` was created with another size.
    uint8_t* get(const std::string& name, uint64_t bytes);
    void release(std::string_view prefix);

private:
    std::map<std::string, std::unique_ptr<AlignedBytes>> buffers_;
};

class HostStorage {
public:
    HostStorage(const Graph& g, StateStore& state);

    std::span<uint8_t* const> addresses() const { return data_; }
    uint8_t* address(TensorId t) const { return data_[static_cast<size_t>(t)]; }
    uint64_t arena_bytes() const { return plan_.arena_bytes; }

    // Checked host access for Executable::write / read.
    void write(TensorId t, std::span<const uint8_t> bytes);
    void read(TensorId t, std::span<uint8_t> bytes) const;

private:
    const Graph& graph_;
    MemoryPlan plan_;
    AlignedBytes arena_;
    std::unique_ptr<AlignedBytes> inputs_;
    std::vector<uint8_t*> data_;
};

}  // namespace kiln
