#include "graph/placement.h"

#include <algorithm>
#include <map>

#include "graph/error.h"

namespace kiln {
namespace {

int max_layer(const Graph& g) {
    int m = kNoLayer;
    for (const Node& n : g.nodes()) m = std::max(m, n.layer);
    return m;
}

}  // namespace

std::vector<int> place_graph(const Graph& g, const PlacementPolicy& policy,
                             const std::function<bool(const Node&)>& device_supports) {
    const auto nodes = g.nodes();
    const int layers = max_layer(g) + 1;
    const int on_device = policy.device_layers < 0 ? layers : std::min(policy.device_layers, layers);
    std::vector<int> where(nodes.size(), kHostBackend);
    bool seen_layer = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        bool device;
        if (n.layer != kNoLayer) {
            seen_layer = true;
            device = n.layer < on_device;
        } else {
            // Before the layers: the embedding lookup; after them: the output head.
            device = seen_layer || layers == 0 ? on_device == layers && policy.device_layers != 0 : on_device > 0;
        }
        where[i] = device && device_supports(n) ? kDeviceBackend : kHostBackend;
    }

    // Experts kept on the host: their matmuls, and a swiglu of two of them (no round trip).
    const auto host_experts = [&](int layer) {
        return layer != kNoLayer && (policy.host_expert_layers < 0 || layer < policy.host_expert_layers);
    };
    std::map<TensorId, bool> host_expert_output;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        if (!host_experts(n.layer)) continue;
        const bool expert_matmul = n.op == Op::MulMatId;
        const bool expert_swiglu = n.op == Op::SwiGLU && host_expert_output.count(n.src[0]) && host_expert_output.count(n.src[1]);
        if (expert_matmul || expert_swiglu) {
            where[i] = kHostBackend;
            host_expert_output[n.dst] = true;
        }
    }

    // State lives in one backend: if any node touching a state runs on the host, all do.
    std::map<TensorId, std::vector<size_t>> users;  // state root -> nodes reading or writing it
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        auto note = [&](TensorId t) {
            if (t == kNoTensor) return;
            const TensorId root = g.storage_of(t);
            if (g.tensor(root).kind == TensorKind::State) users[root].push_back(i);
        };
        for (TensorId t : n.src) note(t);
        note(n.dst);
    }
    for (const auto& [root, list] : users) {
        const bool any_host = std::any_of(list.begin(), list.end(), [&](size_t i) { return where[i] == kHostBackend; });
        if (any_host) {
            for (size_t i : list) where[i] = kHostBackend;
        }
    }
    return where;
}

namespace {

class SegmentBuilder {
public:
    SegmentBuilder(const Graph& g, std::vector<Segment>& segments) : g_(g), segments_(segments) {
        last_writer_.assign(g.tensors().size(), -1);
    }

    void add_node(int seg_index, const Node& n) {
        Segment& s = segments_[static_cast<size_t>(seg_index)];
        Node local = n;
        for (TensorId& t : local.src) {
            if (t != kNoTensor) t = map(seg_index, t);
        }
        const Tensor& dst = g_.tensor(n.dst);
        if (dst.kind == TensorKind::Intermediate && s.local_of[static_cast<size_t>(n.dst)] == kNoTensor &&
            last_writer_[static_cast<size_t>(n.dst)] < 0) {
            // The node creates its output here.
            s.local_of[static_cast<size_t>(n.dst)] = s.graph.add_tensor_copy(dst);
            local.dst = s.local_of[static_cast<size_t>(n.dst)];
        } else {
            local.dst = map(seg_index, n.dst);  // writes into an existing tensor (copy, set_rows)
        }
        s.graph.add_node_copy(local);
        last_writer_[static_cast<size_t>(g_.storage_of(n.dst))] = seg_index;
    }

private:
    TensorId map(int seg_index, TensorId t) {
        Segment& s = segments_[static_cast<size_t>(seg_index)];
        TensorId& slot = s.local_of[static_cast<size_t>(t)];
        if (slot != kNoTensor) return slot;
        Tensor copy = g_.tensor(t);
        switch (copy.kind) {
            case TensorKind::View: {
                copy.view_of = map(seg_index, copy.view_of);
                break;
            }
            case TensorKind::Intermediate: {
                // Produced by an earlier segment: import its bytes as an input here.
                const int producer = last_writer_[static_cast<size_t>(t)];
                if (producer < 0 || producer == seg_index) {
                    throw Error("split_graph: " + copy.name + " is read before any node writes it");
                }
                copy.kind = TensorKind::Input;
                const TensorId local = s.graph.add_tensor_copy(copy);
                s.imports.push_back({t, local});
                export_from(producer, t);
                slot = local;
                return local;
            }
            default: break;  // weights, inputs and state keep their kind and name
        }
        const TensorId local = s.graph.add_tensor_copy(copy);
        s.local_of[static_cast<size_t>(t)] = local;  // `slot` may dangle after map() recursed
        return local;
    }

    void export_from(int producer, TensorId t) {
        Segment& p = segments_[static_cast<size_t>(producer)];
        for (const Transfer& e : p.exports) {
            if (e.global == t) return;
        }
        const TensorId local = p.local_of[static_cast<size_t>(t)];
        p.exports.push_back({t, local});
        p.graph.mark_output(local);
    }

    const Graph& g_;
    std::vector<Segment>& segments_;
    std::vector<int> last_writer_;  // per storage root: the last segment that wrote it
};

}  // namespace

std::vector<Segment> split_graph(const Graph& g, const std::vector<int>& backend_of_node) {
    const auto nodes = g.nodes();
    if (backend_of_node.size() != nodes.size()) throw Error("split_graph: one backend per node is needed");
    std::vector<Segment> segments;
    SegmentBuilder builder(g, segments);
    std::vector<int> segment_of(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (segments.empty() || segments.back().backend != backend_of_node[i]) {
            segments.emplace_back();
            segments.back().backend = backend_of_node[i];
            segments.back().local_of.assign(g.tensors().size(), kNoTensor);
        }
        segment_of[i] = static_cast<int>(segments.size()) - 1;
        builder.add_node(segment_of[i], nodes[i]);
    }
    // An output of the whole graph stays readable in the segment that wrote it last.
    for (TensorId out : g.outputs()) {
        for (auto s = segments.rbegin(); s != segments.rend(); ++s) {
            const TensorId local = s->local_of[static_cast<size_t>(out)];
            if (local != kNoTensor) {
                s->graph.mark_output(local);
                break;
            }
        }
    }
    return segments;
}

}  // namespace kiln
