#include "models/session/session.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "graph/error.h"
#include "models/model.h"
#include "models/session/memory_budget.h"

namespace kiln {
namespace {

// Each session's KV cache gets its own names on a backend shared by several sessions.
std::string next_state_prefix() {
    static std::atomic<uint64_t> counter{0};
    return "session" + std::to_string(counter.fetch_add(1)) + ".";
}

int next_power_of_two(int n) {
    int p = 1;
    while (p < n) p *= 2;
    return p;
}

}  // namespace

SessionOptions resolve_session_options(const Model& model, const SessionOptions& options) {
    const ModelHparams& hp = model.hparams();
    if (options.n_ctx < 0) throw Error("context size -c " + std::to_string(options.n_ctx) + " is negative");
    if (options.n_batch < 1) throw Error("batch size " + std::to_string(options.n_batch) + " must be at least 1");
    if (options.kv_type != DType::F16 && options.kv_type != DType::F32) throw Error("the KV cache is f16 or f32");
    SessionOptions o = options;
    if (o.embeddings) o.logits_all = true;
    if (o.n_ctx == 0) o.n_ctx = static_cast<int>(std::min<uint32_t>(hp.context_length, 4096));
    o.n_batch = std::min(next_power_of_two(options.n_batch), next_power_of_two(o.n_ctx));
    return o;
}

Session::Session(const Model& model, Backend& backend, const SessionOptions& options)
    : model_(model), backend_(backend), options_(resolve_session_options(model, options)) {
    check_memory_budget(plan_memory_budget(model, backend, options_));
    n_ctx_ = options_.n_ctx;
    n_vocab_ = static_cast<int>(model.hparams().vocab_size);
    row_width_ = options_.embeddings ? static_cast<int>(model.hparams().n_embd) : n_vocab_;
    state_prefix_ = next_state_prefix();
    tokens_buf_.resize(static_cast<size_t>(options_.n_batch));
    positions_buf_.resize(static_cast<size_t>(options_.n_batch));
    rows_buf_.resize(static_cast<size_t>(options_.n_batch));
    if (options_.logits_all) scratch_logits_.resize(static_cast<size_t>(options_.n_batch) * row_width_);
}

Session::~Session() {
    graphs_.clear();  // executables first: they point into the state
    backend_.release_state(state_prefix_);
}

Session::Compiled& Session::compiled(int n_tokens) {
    auto it = graphs_.find(n_tokens);
    if (it != graphs_.end()) return *it->second;
    auto c = std::make_unique<Compiled>();
    GraphShape shape;
    shape.n_tokens = n_tokens;
    shape.n_ctx = n_ctx_;
    shape.kv_type = options_.kv_type;
    shape.logits_all = options_.logits_all;
    shape.embeddings = options_.embeddings;
    shape.state_prefix = state_prefix_;
    c->mg = build_model_graph(model_, shape);
    c->exe = backend_.compile(c->mg.graph);
    if (profile_sink_) c->exe->set_profiling(true);
    return *graphs_.emplace(n_tokens, std::move(c)).first->second;
}

const ModelGraph& Session::graph(int n_tokens) { return compiled(n_tokens).mg; }

void Session::set_profile_sink(ProfileSink sink) {
    for (auto& [n, c] : graphs_) c->exe->set_profiling(static_cast<bool>(sink));
    profile_sink_ = std::move(sink);
}

void Session::prepare(int n_tokens) {
    for (int at = 0; at < n_tokens; at += options_.n_batch) {
        compiled(next_power_of_two(std::min(n_tokens - at, options_.n_batch)));
    }
}

std::span<const float> Session::decode(std::span<const int32_t> tokens) {
    if (tokens.empty()) throw Error("decode: no tokens");
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab_) {
            throw Error("token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(n_vocab_));
        }
    }
    if (n_past_ + static_cast<int64_t>(tokens.size()) > n_ctx_) {
        throw Error("context is full: " + std::to_string(n_past_) + " + " + std::to_string(tokens.size()) +
                    " tokens exceed the " + std::to_string(n_ctx_) + "-token cache (use -c to enlarge it)");
    }
    const size_t rows = options_.logits_all ? tokens.size() : 1;
    logits_.resize(rows * static_cast<size_t>(row_width_));  // grows only for longer logits_all calls
    logits_rows_ = 0;
    for (size_t at = 0; at < tokens.size(); at += static_cast<size_t>(options_.n_batch)) {
        const size_t n = std::min(tokens.size() - at, static_cast<size_t>(options_.n_batch));
        run_chunk(tokens.subspan(at, n));
    }
    return {logits_.data() + (rows - 1) * static_cast<size_t>(row_width_), static_cast<size_t>(row_width_)};
}

void Session::run_chunk(std::span<const int32_t> tokens) {
    const int n = static_cast<int>(tokens.size());
    const int graph_tokens = next_power_of_two(n);
    Compiled& c = compiled(graph_tokens);
    for (int i = 0; i < graph_tokens; ++i) {
        tokens_buf_[i] = i < n ? tokens[i] : 0;
        positions_buf_[i] = i < n ? n_past_ + i : -1;  // padding: no cache write, no attention
    }
    auto bytes = [](const std::vector<int32_t>& v, int count) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), static_cast<size_t>(count) * 4);
    };
    c.exe->write(c.mg.tokens, bytes(tokens_buf_, graph_tokens));
    c.exe->write(c.mg.positions, bytes(positions_buf_, graph_tokens));
    if (options_.logits_all) {
        for (int i = 0; i < graph_tokens; ++i) rows_buf_[i] = i;
        c.exe->write(c.mg.output_rows, bytes(rows_buf_, graph_tokens));
    } else {
        rows_buf_[0] = n - 1;
        c.exe->write(c.mg.output_rows, bytes(rows_buf_, 1));
    }
    if (profile_sink_) {
        const auto start = std::chrono::steady_clock::now();
        c.exe->run();
        profile_sink_({&c.mg.graph, graph_tokens, n, start, c.exe->node_timings(), c.exe->transfer_timings()});
    } else {
        c.exe->run();
    }
    last_exe_ = c.exe.get();
    n_past_ += n;

    const size_t row_floats = static_cast<size_t>(row_width_);
    if (options_.logits_all) {
        // Rows beyond n are padding; only the real tokens' logits are kept.
        c.exe->read(c.mg.logits, {reinterpret_cast<uint8_t*>(scratch_logits_.data()), row_floats * graph_tokens * 4});
        std::memcpy(logits_.data() + logits_rows_ * row_floats, scratch_logits_.data(), row_floats * n * 4);
        logits_rows_ += n;
    } else {
        c.exe->read(c.mg.logits, {reinterpret_cast<uint8_t*>(logits_.data()), row_floats * 4});
    }
}

std::span<const float> Session::logits_of(int i) const {
    if (!options_.logits_all || i < 0 || static_cast<size_t>(i) >= logits_rows_) throw Error("logits of token " + std::to_string(i) + " are not kept");
    return {logits_.data() + static_cast<size_t>(i) * row_width_, static_cast<size_t>(row_width_)};
}

}  // namespace kiln
