#pragma once
// A model running on a backend: the KV cache and the graphs that fill it. Tokens are evaluated
// in chunks; each chunk size has its own static graph (1 for decode, powers of two up to
// n_batch for prompts), built and compiled once on first use and replayed after that. A chunk
// shorter than its graph is padded with position -1, which writes nothing and attends nothing.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "models/arch/architectures.h"

namespace kiln {

class Model;

struct SessionOptions {
    int n_ctx = 0;       // KV cache slots; 0: the model's context, capped at 4096
    int n_batch = 256;   // largest chunk evaluated by one graph
    DType kv_type = DType::F16;
    bool logits_all = false;  // keep logits for every evaluated token (tests, perplexity)
    // Output each token's final hidden state (after the output norm; n_embd floats) instead of
    // logits: the model as an embedder (models/session/embedding.h). Implies logits_all.
    bool embeddings = false;
};

// The options a session of `model` runs with: n_ctx the model's context (at most 4096) when 0,
// n_batch rounded up to a power of two no larger than the context's. Throws kiln::Error for
// out-of-range options.
SessionOptions resolve_session_options(const Model& model, const SessionOptions& options);

// One profiled step (Session::set_profile_sink): which compiled graph ran — prompt chunks and
// decode use different graphs — when it started, and its executable's timings (valid only
// during the call).
struct StepProfile {
    const Graph* graph = nullptr;
    int graph_tokens = 0;  // the graph's chunk size
    int tokens = 0;        // real tokens in this chunk (the rest is padding)
    std::chrono::steady_clock::time_point start;
    std::span<const NodeTiming> nodes;
    std::span<const TransferTiming> transfers;
};
using ProfileSink = std::function<void(const StepProfile&)>;

class Session {
public:
    // Throws kiln::Error for out-of-range options, and before allocating anything when the
    // session's memory budget does not fit its backend (models/session/memory_budget.h).
    Session(const Model& model, Backend& backend, const SessionOptions& options = {});
    ~Session();

    // Evaluates `tokens` at the next positions and returns the logits of the last one (valid
    // until the next call). Throws kiln::Error when a token id is outside the vocabulary or
    // the tokens do not fit in the remaining context (nothing is evaluated then).
    std::span<const float> decode(std::span<const int32_t> tokens);

    // With logits_all: the logits of token i of the last decode call.
    std::span<const float> logits_of(int i) const;

    int n_past() const { return n_past_; }
    int n_ctx() const { return n_ctx_; }
    int n_vocab() const { return n_vocab_; }
    // Floats per output row: n_vocab, or n_embd with SessionOptions::embeddings.
    int row_width() const { return row_width_; }
    // Forgets the context (the cache is overwritten as new tokens arrive).
    void clear() { n_past_ = 0; }
    // Keeps only the first n tokens (n <= n_past): the next decode continues at position n.
    void truncate(int n) { n_past_ = std::clamp(n, 0, n_past_); }
    // The cache gained `n` tokens written by another graph that shares this session's state
    // (BatchSession's batched decode); n_past + n must fit in the context.
    void advance(int n) { n_past_ = std::clamp(n_past_ + n, 0, n_ctx_); }
    // The prefix of this session's KV cache names on its backend.
    const std::string& state_prefix() const { return state_prefix_; }
    const SessionOptions& options() const { return options_; }

    // Builds and compiles, ahead of time, the graphs that decode() of `n_tokens` will use, so
    // the first call is not slowed by compilation (timings, latency).
    void prepare(int n_tokens);

    // The compiled graph for chunks of `n_tokens` (built on first use).
    const ModelGraph& graph(int n_tokens);

    // Times every node of the steps that follow and hands each step to `sink`; an empty sink
    // turns profiling off. Throws kiln::Error when the backend cannot time its work.
    void set_profile_sink(ProfileSink sink);

    // What the last evaluated chunk asked of the device (its graph's run and the logits read
    // after it; Executable::run_counts), or nullopt before any or on a host backend.
    std::optional<RunCounts> last_step_counts() const {
        return last_exe_ ? last_exe_->run_counts() : std::nullopt;
    }
    // Where the last chunk's nodes ran (Executable::backend_name), or "" before any.
    std::string last_step_backend() const { return last_exe_ ? last_exe_->backend_name() : ""; }

private:
    struct Compiled {
        ModelGraph mg;
        std::unique_ptr<Executable> exe;
    };
    Compiled& compiled(int n_tokens);
    void run_chunk(std::span<const int32_t> tokens);

    const Model& model_;
    Backend& backend_;
    SessionOptions options_;
    int n_ctx_ = 0;
    int n_vocab_ = 0;
    int row_width_ = 0;
    int n_past_ = 0;
    std::string state_prefix_;
    std::map<int, std::unique_ptr<Compiled>> graphs_;
    std::vector<int32_t> tokens_buf_, positions_buf_, rows_buf_;
    std::vector<float> scratch_logits_;  // a padded chunk's logits (logits_all only)
    std::vector<float> logits_;  // [rows][n_vocab] of the last call
    size_t logits_rows_ = 0;
    ProfileSink profile_sink_;
    const Executable* last_exe_ = nullptr;  // the one that ran the last chunk
};

}  // namespace kiln
