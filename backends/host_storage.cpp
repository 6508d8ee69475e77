#include "backends/host_storage.h"

#include <cstring>
#include <new>

#include "graph/error.h"

namespace kiln {

AlignedBytes::AlignedBytes(uint64_t size) : size_(size) {
    if (size) {
        ptr_ = static_cast<uint8_t*>(::operator new(size, std::align_val_t(64)));
        std::memset(ptr_, 0, size);
    }
}

AlignedBytes::~AlignedBytes() {
    if (ptr_) ::operator delete(ptr_, std::align_val_t(64));
}

uint8_t* StateStore::get(const std::string& name, uint64_t bytes) {
    auto it = buffers_.find(name);
    if (it == buffers_.end()) {
        it = buffers_.emplace(name, std::make_unique<AlignedBytes>(bytes)).first;
    } else if (it->second->size() != bytes) {
        throw Error("state tensor '" + name + "' is used with two sizes (" + std::to_string(it->second->size()) + " and " +
                    std::to_string(bytes) + " bytes)");
    }
    return it->second->data();
}

void StateStore::release(std::string_view prefix) {
    for (auto it = buffers_.begin(); it != buffers_.end();) {
        it = it->first.compare(0, prefix.size(), prefix) == 0 ? buffers_.erase(it) : std::next(it);
    }
}

HostStorage::HostStorage(const Graph& g, StateStore& state) : graph_(g), plan_(plan_memory(g)), arena_(plan_.arena_bytes) {
    const auto tensors = g.tensors();
    uint64_t input_bytes = 0;
    std::vector<uint64_t> input_offset(tensors.size(), 0);
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (tensors[i].kind == TensorKind::Input) {
            input_offset[i] = input_bytes;
            input_bytes += (tensors[i].n_bytes() + 63) / 64 * 64;
        }
    }
    inputs_ = std::make_unique<AlignedBytes>(input_bytes);
    data_.assign(tensors.size(), nullptr);
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        switch (t.kind) {
            case TensorKind::Weight: data_[i] = const_cast<uint8_t*>(static_cast<const uint8_t*>(t.host_data)); break;
            case TensorKind::Input: data_[i] = inputs_->data() + input_offset[i]; break;
            case TensorKind::State: data_[i] = state.get(t.name, t.n_bytes()); break;
            case TensorKind::Intermediate: data_[i] = arena_.data() + plan_.offset[i]; break;
            case TensorKind::View: data_[i] = data_[static_cast<size_t>(t.view_of)] + t.view_offset; break;
        }
    }
}

void HostStorage::write(TensorId t, std::span<const uint8_t> bytes) {
    const Tensor& x = graph_.tensor(t);
    if (x.kind != TensorKind::Input && x.kind != TensorKind::State) throw Error("tensor '" + x.name + "' is not an input");
    if (bytes.size() != x.n_bytes()) {
        throw Error("tensor '" + x.name + "' holds " + std::to_string(x.n_bytes()) + " bytes, got " + std::to_string(bytes.size()));
    }
    std::memcpy(address(t), bytes.data(), bytes.size());
}

void HostStorage::read(TensorId t, std::span<uint8_t> bytes) const {
    const Tensor& x = graph_.tensor(t);
    if (!x.is_contiguous() || bytes.size() != x.n_bytes()) {
        throw Error("cannot read tensor '" + x.name + "' into " + std::to_string(bytes.size()) + " bytes");
    }
    std::memcpy(bytes.data(), address(t), bytes.size());
}

}  // namespace kiln
