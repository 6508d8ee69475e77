#pragma once
// Several sequences ("slots") of one model on one backend, each with its own KV cache: the
// engine under continuous batching. A slot's prompt runs through its own Session's chunk
// graphs; generated tokens of all slots run together through one batched graph — one matmul
// per weight for every slot, attention per slot over its own cache. The batched graph always
// has a column per slot (idle ones are padding), so a slot's results do not depend on which
// other slots are busy: greedy output is the same alone or beside others.
#include <memory>
#include <span>
#include <vector>

#include "backends/backend.h"
#include "models/arch/architectures.h"
#include "models/session/session.h"

namespace kiln {

class Model;

struct BatchOptions {
    int n_slots = 1;
    int n_ctx = 0;      // per slot; 0: the model's context, capped at 4096
    int n_batch = 256;  // largest prompt chunk per graph
    DType kv_type = DType::F16;
};

struct SlotToken {
    int slot = 0;
    int32_t token = 0;
};

class BatchSession {
public:
    // Throws kiln::Error for out-of-range options, and before allocating anything when the slots'
    // memory budget does not fit the backend (models/session/memory_budget.h).
    BatchSession(const Model& model, Backend& backend, const BatchOptions& options);
    ~BatchSession();

    int n_slots() const { return static_cast<int>(slots_.size()); }
    int n_ctx() const { return slots_.front()->n_ctx(); }
    int n_vocab() const { return n_vocab_; }
    // The largest prompt chunk one graph evaluates: prefill splits longer spans at multiples of it.
    int n_batch() const { return slots_.front()->options().n_batch; }
    int n_past(int slot) const { return session(slot).n_past(); }
    // Forgets a slot's context (a finished request).
    void clear(int slot) { session(slot).clear(); }
    // Keeps the first n tokens of a slot's context (prompt-prefix reuse).
    void truncate(int slot, int n) { session(slot).truncate(n); }

    // Evaluates tokens at a slot's next positions through its own chunk graphs; returns the last
    // token's logits (also logits(slot) until that slot's next call). Throws kiln::Error as
    // Session::decode does, evaluating nothing.
    std::span<const float> prefill(int slot, std::span<const int32_t> tokens);

    // One token for each listed slot, all in one run of the batched graph. Throws kiln::Error,
    // evaluating nothing, when a slot is out of range or listed twice, a token is outside the
    // vocabulary, or a slot's context is full.
    void decode(std::span<const SlotToken> batch);

    // The logits after a slot's last prefill or decode.
    std::span<const float> logits(int slot) const;

    // Builds and compiles the batched graph now (otherwise on the first decode).
    void prepare();

private:
    Session& session(int slot) const;

    const Model& model_;
    Backend& backend_;
    std::vector<std::unique_ptr<Session>> slots_;
    int n_vocab_ = 0;
    ModelGraph batched_;
    std::unique_ptr<Executable> exe_;
    std::vector<int32_t> tokens_buf_, positions_buf_, rows_buf_;
    std::vector<float> all_logits_;  // [n_slots][n_vocab]: the batched graph's output
    std::vector<float> logits_;      // [n_slots][n_vocab]: each slot's latest
};

}  // namespace kiln
