#pragma once
// Runs a Graph on the host with the scalar reference kernels (graph/reference): the "third
// voice" backend tests compare against. Storage mirrors a backend's: weights are used in place,
// inputs and state get zeroed buffers the test writes, intermediates get their own buffers (no
// reuse, so every tensor stays readable), views point into their storage.
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include "graph/graph.h"
#include "graph/reference/reference.h"

namespace kiln::testing {

class ReferenceRunner {
public:
    explicit ReferenceRunner(const Graph& g) : g_(g), storage_(g.tensors().size()), data_(g.tensors().size()) {
        const auto tensors = g.tensors();
        for (size_t i = 0; i < tensors.size(); ++i) {
            const Tensor& t = tensors[i];
            if (t.kind == TensorKind::Weight) {
                data_[i] = const_cast<uint8_t*>(static_cast<const uint8_t*>(t.host_data));
            } else if (t.kind != TensorKind::View) {
                storage_[i].assign(t.n_bytes(), 0);
                data_[i] = storage_[i].data();
            }
        }
        for (size_t i = 0; i < tensors.size(); ++i) {  // views are added after what they view
            if (tensors[i].kind == TensorKind::View) data_[i] = data_[static_cast<size_t>(tensors[i].view_of)] + tensors[i].view_offset;
        }
    }

    void write(TensorId t, std::span<const uint8_t> bytes) {
        if (bytes.size() != g_.tensor(t).n_bytes()) throw std::runtime_error("ReferenceRunner::write: size mismatch");
        std::memcpy(data_[static_cast<size_t>(t)], bytes.data(), bytes.size());
    }
    template <typename T>
    void write(TensorId t, const std::vector<T>& v) {
        write(t, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)));
    }

    void run() {
        for (const Node& n : g_.nodes()) reference_execute(g_, n, data_);
    }

    // The bytes of a tensor from its first to one past its last element.
    std::vector<uint8_t> read(TensorId t) const {
        const uint8_t* p = data_[static_cast<size_t>(t)];
        return std::vector<uint8_t>(p, p + g_.tensor(t).n_bytes());
    }

    uint8_t* data(TensorId t) { return data_[static_cast<size_t>(t)]; }

private:
    const Graph& g_;
    std::vector<std::vector<uint8_t>> storage_;
    std::vector<uint8_t*> data_;
};

}  // namespace kiln::testing
