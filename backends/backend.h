#pragma once
// The one way a graph reaches a device. A backend says which nodes it can run, and compiles a
// graph into an Executable: storage bound (weights, a planned arena for intermediates, inputs,
// state shared by name across the graphs of one backend), ready to run step after step with no
// allocation. The scheduler (later: placement across backends) only talks to this interface.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <string_view>

#include "graph/graph.h"

namespace kiln {

// Where one node's time went in a profiled run (Executable::set_profiling). Times are
// nanoseconds from the start of that run() call.
struct NodeTiming {
    uint32_t node = 0;          // index in the compiled graph's nodes()
    double start_ns = 0;
    double end_ns = 0;
    std::string_view backend;   // the backend that ran it (valid while that backend lives)
};

// A host copy between two backends in a profiled run of a placed graph.
struct TransferTiming {
    TensorId tensor = kNoTensor;  // in the compiled graph
    uint64_t bytes = 0;
    double start_ns = 0;
    double end_ns = 0;
    std::string_view from, to;    // backend names
};

// What one run() asked of a device, counted so that a machine without the device can still
// reason about its cost. Numbers fixed by the recording are computed once at compile time;
// the rest are counted as they happen (a few integer additions per run).
struct RunCounts {
    uint64_t dispatches = 0;  // compute shader dispatches
    uint64_t submits = 0;     // queue submissions
    uint64_t host_waits = 0;  // times the host blocked until the device finished (fence waits)
    uint64_t barriers = 0;    // pipeline barriers in the graph's recorded command buffer
    // Per dispatch, the byte ranges of the node's source tensors bound to it, summed: what the
    // shaders may read. An upper bound of the bytes they fetch (a KV cache is bound whole, an
    // embedding table too while one row is read; ranges are widened to the binding alignment).
    uint64_t bytes_bound_for_reading = 0;
    uint64_t host_copies = 0;  // tensors copied between backends through host memory (placed graphs)
    uint64_t host_copy_bytes = 0;

    RunCounts& operator+=(const RunCounts& o) {
        dispatches += o.dispatches;
        submits += o.submits;
        host_waits += o.host_waits;
        barriers += o.barriers;
        bytes_bound_for_reading += o.bytes_bound_for_reading;
        host_copies += o.host_copies;
        host_copy_bytes += o.host_copy_bytes;
        return *this;
    }
    bool operator==(const RunCounts&) const = default;
};

class Executable {
public:
    virtual ~Executable() = default;
    // Copies host bytes into an Input (or State) tensor; `bytes` must equal its size.
    virtual void write(TensorId t, std::span<const uint8_t> bytes) = 0;
    // Copies a tensor's bytes out (any tensor kind; contiguous tensors only).
    virtual void read(TensorId t, std::span<uint8_t> bytes) const = 0;
    // Runs every node once, in order.
    virtual void run() = 0;
    // Peak bytes of the intermediate arena.
    virtual uint64_t arena_bytes() const = 0;
    // What runs the nodes: the backend's name, or the names of the backends a placed graph's
    // segments run on ("vulkan+cpu"), so reports say where the work actually went.
    virtual std::string backend_name() const = 0;

    // Per-node timing of the following runs; off by default, and off costs nothing. On, the
    // order and results of the computation stay the same. Throws kiln::Error when the device
    // cannot time its work.
    virtual void set_profiling(bool on) = 0;
    // The nodes' times of the last run() made with profiling on, in node order.
    virtual std::span<const NodeTiming> node_timings() const = 0;
    // The copies between backends of that run (only a graph placed over several has any).
    virtual std::span<const TransferTiming> transfer_timings() const { return {}; }

    // The device work of the last run() and of the read()/write() calls made since it (the
    // logits read after a step, a readback's wait); counted always, at no measurable cost.
    // nullopt where a run is not device work (the CPU and reference backends).
    virtual std::optional<RunCounts> run_counts() const { return std::nullopt; }
};

// Consecutive nodes a backend computes as one kernel (a fused run): its inner outputs are
// never stored.
struct KernelRun {
    size_t first = 0;
    size_t count = 0;
    std::string kernel;  // e.g. "rms_norm+mul"
};

// Whether node k of run r stores its output: no later node of the run reads it. The others are
// inner values its kernel never stores.
inline bool run_stores(const Graph& g, const KernelRun& r, size_t k) {
    const TensorId root = g.storage_of(g.nodes()[k].dst);
    for (size_t j = k + 1; j < r.first + r.count; ++j) {
        for (TensorId s : g.nodes()[j].src) {
            if (s != kNoTensor && g.storage_of(s) == root) return false;
        }
    }
    return true;
}

// Device memory a backend holds: memory objects allocated (blocks buffers are carved from, and
// buffers with memory of their own) and the bytes of its live buffers by what they hold.
struct DeviceMemoryUse {
    uint64_t allocations = 0;
    uint64_t allocated_bytes = 0;
    uint64_t weights = 0, kv_cache = 0, activations = 0, io = 0;
};

// How many bytes a backend can still allocate for weights, state and arenas, and what that
// memory is ("host memory available", "device-local heap 0 of <device>").
struct MemoryLimit {
    uint64_t bytes = 0;
    std::string what;
    bool host = false;  // host memory: what several backends hold there counts against one limit
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string_view name() const = 0;
    virtual bool supports(const Graph& g, const Node& n) const = 0;
    // Throws kiln::Error naming the node when a node is unsupported.
    virtual std::unique_ptr<Executable> compile(const Graph& g) = 0;
    // Frees the State tensors whose names start with `prefix` (a finished session's KV cache).
    virtual void release_state(std::string_view prefix) = 0;
    // What this backend can still allocate, read now (it changes as memory is used); nullopt
    // when unknown. Host backends report host memory (the default).
    virtual std::optional<MemoryLimit> memory_limit() const;
    // What the backend holds in device memory now; nullopt for host backends.
    virtual std::optional<DeviceMemoryUse> device_memory() const { return std::nullopt; }
    // The fused runs compile(g) would record, in node order (none unless the backend fuses).
    virtual std::vector<KernelRun> fused_runs(const Graph& g) const {
        (void)g;
        return {};
    }
};

}  // namespace kiln
