#include "backends/vulkan/vulkan_executable.h"

#include <algorithm>
#include <cstring>

#include "backends/vulkan/ops/ops.h"
#include "backends/vulkan/transfer.h"
#include "backends/vulkan/vulkan_backend.h"
#include "graph/error.h"

namespace kiln::vk {
namespace {

constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kBuffersPerPool = kSetsPerPool * 8;

uint64_t round_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

VulkanExecutable::VulkanExecutable(VulkanBackend& backend, const Graph& g)
    : backend_(backend), graph_(g), commands_(backend.context_.device()) {
    const uint64_t align = std::max<uint64_t>(256, backend.info().min_storage_buffer_offset_alignment);
    fused_ = plan_fusion(g, info(), backend.weights_together(g));
    std::vector<NodeSpan> spans;
    for (const FusedRun& r : fused_) spans.push_back({r.first, r.count});
    plan_ = plan_memory(g, align, spans);
    place_tensors();
    record();
}

// The command buffer goes first, waiting for its work, while the buffers, descriptor sets and
// timestamp queries it uses still exist (members die in reverse order, the queries before it).
VulkanExecutable::~VulkanExecutable() { commands_.reset(); }

const DeviceInfo& VulkanExecutable::info() const { return backend_.info(); }

void VulkanExecutable::place_tensors() {
    const Device& device = backend_.context_.device();
    const uint64_t align = std::max<uint64_t>(256, info().min_storage_buffer_offset_alignment);
    const auto tensors = graph_.tensors();

    // Weights a fused kernel binds as one range are uploaded one after another, in one block.
    std::vector<WeightStore::Pending> weights;
    std::vector<bool> grouped(tensors.size(), false);
    for (const FusedRun& r : fused_) {
        if (r.weights_together.empty()) continue;
        std::vector<WeightStore::Pending> group;
        for (TensorId w : r.weights_together) {
            const Tensor& t = graph_.tensor(w);
            group.push_back({t.host_data, t.n_bytes(), t.name});
            grouped[static_cast<size_t>(w)] = true;
        }
        group.front().group_bytes = backend_.weights_.group_footprint(group);
        weights.insert(weights.end(), group.begin(), group.end());
    }
    uint64_t input_bytes = 0;
    std::vector<uint64_t> input_at(tensors.size(), 0);
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        if (t.kind == TensorKind::Weight && !grouped[i]) weights.push_back({t.host_data, t.n_bytes(), t.name});
        if (t.kind == TensorKind::Input) {
            input_at[i] = input_bytes;
            input_bytes = round_up(input_bytes + t.n_bytes(), align);
        }
    }
    backend_.weights_.upload(weights, backend_.upload_progress_);
    inputs_ = std::make_unique<Buffer>(device, std::max<uint64_t>(input_bytes, 16), MemoryUse::upload);
    arena_ = std::make_unique<Buffer>(device, std::max<uint64_t>(round_up(plan_.arena_bytes, 16), 16), MemoryUse::device,
                                      MemoryPurpose::activations);

    where_.assign(tensors.size(), {});
    for (size_t i = 0; i < tensors.size(); ++i) {  // views come after what they view
        const Tensor& t = tensors[i];
        switch (t.kind) {
            case TensorKind::Weight: {
                const DeviceSlice s = backend_.weights_.get(t.host_data, t.n_bytes());
                where_[i] = {s.buffer, s.offset};
                break;
            }
            case TensorKind::Input: where_[i] = {inputs_.get(), input_at[i]}; break;
            case TensorKind::State: where_[i] = {&backend_.states_.get(t.name, t.n_bytes()), 0}; break;
            case TensorKind::Intermediate: where_[i] = {arena_.get(), plan_.offset[i]}; break;
            case TensorKind::View: {
                const Location& base = where_[static_cast<size_t>(t.view_of)];
                where_[i] = {base.buffer, base.offset + t.view_offset};
                break;
            }
        }
    }

    // Outputs the host cannot map are copied to a readback buffer at the end of every run.
    uint64_t readback_bytes = 0;
    for (TensorId out : graph_.outputs()) {
        const TensorId root = graph_.storage_of(out);
        if (where_[static_cast<size_t>(root)].buffer->mapped() || readback_at_.count(root)) continue;
        readback_at_[root] = readback_bytes;
        readback_bytes = round_up(readback_bytes + tensors[static_cast<size_t>(root)].n_bytes(), 16);
    }
    if (readback_bytes) readback_ = std::make_unique<Buffer>(device, readback_bytes, MemoryUse::readback);
}

void VulkanExecutable::record() {
    commands_.begin();  // waits for a pending submission of the previous recording
    // A new recording allocates its descriptor sets again: the old ones go with their pools.
    // Scratch buffers are reused in order.
    pools_.clear();
    pool_sets_ = 0;
    pool_buffers_ = 0;
    recorded_ = {};
    // No barrier first: every submission before this one (the previous step, uploads, state
    // clears) ends with a barrier ordering it before later kernels (step_end below).
    unfenced_reads_.clear();
    unfenced_writes_.clear();
    if (timestamps_) {
        commands_.reset_queries(*timestamps_);
        commands_.write_timestamp(*timestamps_, 0);
    }
    const auto nodes = graph_.nodes();
    auto run = fused_.begin();
    for (size_t i = 0; i < nodes.size();) {
        const bool fused = run != fused_.end() && run->first == i;
        const size_t count = fused ? run->count : 1;
        scratch_used_ = 0;
        source_ranges_.clear();
        // What the kernel reads: its nodes' sources that no node of the run produces.
        sources_.clear();
        for (size_t k = i; k < i + count; ++k) {
            for (TensorId s : nodes[k].src) {
                if (s == kNoTensor) continue;
                const bool inner = std::any_of(nodes.begin() + static_cast<std::ptrdiff_t>(i),
                                               nodes.begin() + static_cast<std::ptrdiff_t>(k),
                                               [&](const Node& p) { return graph_.storage_of(s) == p.dst; });
                if (!inner) sources_.push_back(s);
            }
        }
        if (fused) {
            record_fused(*this, *run++);
        } else {
            vulkan_op(nodes[i].op).record(*this, nodes[i]);
        }
        // Written once the kernel's work (and whatever it waited for) has finished; the nodes of
        // a fused run end together.
        for (size_t k = i; timestamps_ && k < i + count; ++k) {
            commands_.write_timestamp(*timestamps_, static_cast<uint32_t>(k + 1));
        }
        i += count;
    }
    sources_.clear();
    if (readback_) {
        record_barrier(Barrier::compute_to_transfer);
        for (const auto& [root, at] : readback_at_) {
            const Location& l = where_[static_cast<size_t>(root)];
            commands_.copy(*l.buffer, *readback_, graph_.tensor(root).n_bytes(), l.offset, at);
        }
    }
    record_barrier(Barrier::step_end);
    commands_.end();
}

void VulkanExecutable::record_barrier(Barrier kind) {
    commands_.barrier(kind);
    ++recorded_.barriers;
    unfenced_reads_.clear();  // every barrier here is a full memory barrier
    unfenced_writes_.clear();
}

void VulkanExecutable::fence_hazards(std::span<const BufferRange> reads, std::span<const BufferRange> writes) {
    const auto overlaps = [](const BufferRange& a, const std::vector<BufferRange>& list) {
        return std::any_of(list.begin(), list.end(), [&](const BufferRange& b) {
            return a.buffer == b.buffer && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
        });
    };
    bool hazard = false;
    for (const BufferRange& r : reads) hazard = hazard || overlaps(r, unfenced_writes_);  // read after write
    for (const BufferRange& w : writes) {
        hazard = hazard || overlaps(w, unfenced_writes_) || overlaps(w, unfenced_reads_);  // write after write / read
    }
    if (hazard) record_barrier(Barrier::compute_to_compute);
    unfenced_reads_.insert(unfenced_reads_.end(), reads.begin(), reads.end());
    unfenced_writes_.insert(unfenced_writes_.end(), writes.begin(), writes.end());
}

TensorBinding VulkanExecutable::bind(TensorId t) { return bind_together(std::span(&t, 1)).front(); }

std::vector<TensorBinding> VulkanExecutable::bind_together(std::span<const TensorId> ts) {
    const uint64_t align = info().min_storage_buffer_offset_alignment;
    const Buffer* buffer = where_.at(static_cast<size_t>(ts.front())).buffer;
    uint64_t first = UINT64_MAX, end = 0;
    for (TensorId t : ts) {
        const Location& l = where_.at(static_cast<size_t>(t));
        if (l.buffer != buffer) {
            throw Error("vulkan: " + graph_.tensor(t).name + " is not in the buffer of " + graph_.tensor(ts.front()).name);
        }
        first = std::min<uint64_t>(first, l.offset);
        end = std::max<uint64_t>(end, l.offset + std::max<uint64_t>(graph_.tensor(t).n_bytes(), 1));
    }
    // The range starts at the offset alignment at or before the first byte.
    const VkDeviceSize start = first - first % align;
    const VkDeviceSize size = std::min<uint64_t>(round_up(end - start, 4), buffer->size() - start);
    if (size > info().max_storage_buffer_range) {
        const std::string what = ts.size() == 1 ? "tensor " + graph_.tensor(ts.front()).name
                                                : graph_.tensor(ts.front()).name + " and the tensors bound with it";
        throw Error("vulkan: " + what + " spans " + std::to_string(size) + " bytes, more than the device binds at once");
    }
    const BufferRange range{buffer->handle(), start, size};
    // Read as one range: a source when any of them is.
    if (std::any_of(ts.begin(), ts.end(), [&](TensorId t) { return std::find(sources_.begin(), sources_.end(), t) != sources_.end(); })) {
        source_ranges_.push_back(range);
    }
    std::vector<TensorBinding> out;
    for (TensorId t : ts) out.push_back({range, static_cast<uint32_t>(where_[static_cast<size_t>(t)].offset - start)});
    return out;
}

TensorBinding VulkanExecutable::scratch(uint64_t bytes) {
    bytes = round_up(std::max<uint64_t>(bytes, 16), 16);
    // A node's temporaries are free again once the next node starts (dispatches binding them
    // count as writing them, so a later node's use waits for the earlier one's), so buffers are
    // reused in order; one too small is replaced, the old one kept for its users.
    if (scratch_used_ < scratch_.size() && scratch_[scratch_used_]->size() >= bytes) {
        const Buffer& b = *scratch_[scratch_used_++];
        return {b.range(0, bytes), 0};
    }
    auto buffer = std::make_unique<Buffer>(backend_.context_.device(), bytes, MemoryUse::device, MemoryPurpose::activations);
    const Buffer& b = *buffer;
    if (scratch_used_ < scratch_.size()) {
        scratch_.push_back(std::move(scratch_[scratch_used_]));
        scratch_[scratch_used_] = std::move(buffer);
    } else {
        scratch_.push_back(std::move(buffer));
    }
    ++scratch_used_;
    return {b.range(0, bytes), 0};
}

const ComputePipeline& VulkanExecutable::pipeline(const PipelineDesc& desc) { return backend_.pipelines_.get(desc); }

void VulkanExecutable::dispatch(const ComputePipeline& p, std::span<const TensorBinding> buffers,
                                std::span<const std::byte> push, uint32_t groups_x, uint32_t groups_y,
                                uint32_t groups_z) {
    const auto count = static_cast<uint32_t>(buffers.size());
    if (pools_.empty() || pool_sets_ == kSetsPerPool || pool_buffers_ + count > kBuffersPerPool) {
        pools_.emplace_back(backend_.context_.device(), kSetsPerPool, std::max(kBuffersPerPool, count));
        pool_sets_ = 0;
        pool_buffers_ = 0;
    }
    std::vector<BufferRange> ranges;
    ranges.reserve(buffers.size());
    for (const TensorBinding& b : buffers) ranges.push_back(b.range);
    // The node's sources are read; everything else bound (its output, its scratch) may be
    // written. Hazards are judged on the bound ranges, which is what the validation layer's
    // synchronization check assumes a shader touches.
    std::vector<BufferRange> reads, writes;
    for (const BufferRange& r : ranges) {
        const bool source = std::any_of(source_ranges_.begin(), source_ranges_.end(), [&](const BufferRange& s) {
            return s.buffer == r.buffer && s.offset == r.offset && s.size == r.size;
        });
        (source ? reads : writes).push_back(r);
    }
    fence_hazards(reads, writes);
    const VkDescriptorSet set = pools_.back().allocate(p, ranges);
    ++pool_sets_;
    pool_buffers_ += count;
    commands_.dispatch(p, set, push, groups_x, groups_y, groups_z);
    ++recorded_.dispatches;
    // A source bound twice (a placeholder for an absent optional input) is read once.
    for (size_t i = 0; i < ranges.size(); ++i) {
        const auto same = [&](const BufferRange& r) {
            return r.buffer == ranges[i].buffer && r.offset == ranges[i].offset && r.size == ranges[i].size;
        };
        const bool source = std::any_of(source_ranges_.begin(), source_ranges_.end(), same);
        if (source && std::none_of(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(i), same)) {
            recorded_.bytes_bound_for_reading += ranges[i].size;
        }
    }
}

void VulkanExecutable::barrier() { record_barrier(Barrier::compute_to_compute); }

void VulkanExecutable::write(TensorId t, std::span<const uint8_t> bytes) {
    backend_.context_.device().check_alive();
    const Tensor& tensor = graph_.tensor(t);
    if (bytes.size() != tensor.n_bytes()) {
        throw Error("vulkan: writing " + std::to_string(bytes.size()) + " bytes into " + tensor.name + " of " +
                    std::to_string(tensor.n_bytes()) + " bytes");
    }
    const Location& l = where_[static_cast<size_t>(t)];
    const auto data = std::as_bytes(bytes);
    if (tensor.kind == TensorKind::Input) {
        std::memcpy(l.buffer->mapped() + l.offset, data.data(), data.size());
        l.buffer->flush(l.offset, data.size());
    } else if (tensor.kind == TensorKind::State) {
        if (!l.buffer->mapped()) {  // upload() goes through a staging copy
            ++submits_;
            ++host_waits_;
        }
        upload(backend_.context_.device(), *l.buffer, data, l.offset);
    } else {
        throw Error("vulkan: " + tensor.name + " is not an input or state tensor");
    }
}

void VulkanExecutable::read(TensorId t, std::span<uint8_t> bytes) const {
    backend_.context_.device().check_alive();  // a lost device's memory holds nothing to trust
    const Tensor& tensor = graph_.tensor(t);
    if (!tensor.is_contiguous() || bytes.size() != tensor.n_bytes()) {
        throw Error("vulkan: reading " + tensor.name + " needs a contiguous tensor and " +
                    std::to_string(tensor.n_bytes()) + " bytes");
    }
    const Location& l = where_[static_cast<size_t>(t)];
    const auto out = std::as_writable_bytes(bytes);
    if (l.buffer->mapped()) {
        l.buffer->invalidate(l.offset, out.size());
        std::memcpy(out.data(), l.buffer->mapped() + l.offset, out.size());
        return;
    }
    const TensorId root = graph_.storage_of(t);
    if (const auto it = readback_at_.find(root); it != readback_at_.end()) {
        const VkDeviceSize at = it->second + (l.offset - where_[static_cast<size_t>(root)].offset);
        readback_->invalidate(at, out.size());
        std::memcpy(out.data(), readback_->mapped() + at, out.size());
        return;
    }
    ++submits_;  // download() submits a copy (or a host barrier) and waits for it
    ++host_waits_;
    download(backend_.context_.device(), *l.buffer, out, l.offset);
}

std::optional<RunCounts> VulkanExecutable::run_counts() const {
    RunCounts c = recorded_;
    c.submits = submits_;
    c.host_waits = host_waits_;
    return c;
}

void VulkanExecutable::run() {
    submits_ = 1;
    host_waits_ = 1;
    commands_.submit_and_wait();
    if (!timestamps_) return;
    const std::vector<double> ns = timestamps_->read_ns();  // converted with timestampPeriod
    for (size_t i = 0; i < timings_.size(); ++i) {
        timings_[i].start_ns = ns[i];
        timings_[i].end_ns = ns[i + 1];
    }
}

void VulkanExecutable::set_profiling(bool on) {
    if (on == (timestamps_ != nullptr)) return;
    const Device& device = backend_.context_.device();
    if (!on) {
        timings_.clear();
        auto queries = std::move(timestamps_);  // kept until the recording that uses it is replaced
        record();
        return;
    }
    if (!device.queue_timestamps()) {
        throw Error("vulkan: cannot profile on " + info().name + ": its compute queue has no timestamp queries");
    }
    const auto nodes = graph_.nodes();
    timestamps_ = std::make_unique<TimestampQueries>(device, static_cast<uint32_t>(nodes.size() + 1));
    timings_.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) timings_[i] = {static_cast<uint32_t>(i), 0, 0, "vulkan"};
    record();
}

}  // namespace kiln::vk
