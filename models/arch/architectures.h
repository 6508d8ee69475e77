#pragma once
// The registry of architectures: one graph builder per architecture, chosen by
// `general.architecture`.
#include <string>
#include <vector>

#include "graph/graph.h"

namespace kiln {

class Model;

// What one graph computes: a chunk of `n_tokens` tokens against a KV cache of `n_ctx` slots.
struct GraphShape {
    int n_tokens = 1;
    int n_ctx = 512;
    DType kv_type = DType::F16;
    bool logits_all = false;  // logits for every token, or only the last
    bool embeddings = false;  // output the normed hidden state (n_embd) instead of logits
    std::string state_prefix;  // prepended to the KV cache's names: one cache per session
    // Batched decode across sessions: when set (one per token), token i writes and attends the
    // cache of the session whose prefix is seq_state_prefixes[i] (state_prefix is then unused).
    std::vector<std::string> seq_state_prefixes;
};

// Names of the graph's inputs and output, the same for every architecture.
struct ModelGraph {
    Graph graph;
    TensorId tokens = kNoTensor;     // I32 [n_tokens]
    TensorId positions = kNoTensor;  // I32 [n_tokens]; -1 marks padding (no cache write, no attention)
    TensorId output_rows = kNoTensor;  // I32 [n_tokens or 1]: which tokens get logits
    TensorId logits = kNoTensor;       // F32 [n_vocab (n_embd with embeddings), rows of output_rows]
};

bool architecture_supported(const std::string& arch);
std::string supported_architectures();  // "llama, ..."

// Throws kiln::Error naming the tensor when a weight is missing or mis-shaped.
ModelGraph build_model_graph(const Model& m, const GraphShape& shape);
void check_architecture_weights(const Model& m);

}  // namespace kiln
