#include "models/session/batch_session.h"

#include <cstring>

#include "graph/error.h"
#include "models/model.h"
#include "models/session/memory_budget.h"

namespace kiln {
namespace {

std::span<const uint8_t> as_bytes(const std::vector<int32_t>& v) {
    return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(int32_t)};
}

}  // namespace

BatchSession::BatchSession(const Model& model, Backend& backend, const BatchOptions& options)
    : model_(model), backend_(backend) {
    if (options.n_slots < 1 || options.n_slots > 256) {
        throw Error("parallel slots " + std::to_string(options.n_slots) + " must be between 1 and 256");
    }
    SessionOptions so;
    so.n_ctx = options.n_ctx;
    so.n_batch = options.n_batch;
    so.kv_type = options.kv_type;
    // All slots together, before the first one allocates anything.
    check_memory_budget(plan_memory_budget(model, backend, so, options.n_slots));
    for (int i = 0; i < options.n_slots; ++i) slots_.push_back(std::make_unique<Session>(model, backend, so));
    n_vocab_ = slots_.front()->n_vocab();
    const size_t n = static_cast<size_t>(options.n_slots);
    tokens_buf_.resize(n);
    positions_buf_.resize(n);
    rows_buf_.resize(n);
    for (size_t i = 0; i < n; ++i) rows_buf_[i] = static_cast<int32_t>(i);
    all_logits_.resize(n * static_cast<size_t>(n_vocab_));
    logits_.resize(n * static_cast<size_t>(n_vocab_));
}

BatchSession::~BatchSession() {
    exe_.reset();  // before the sessions release the caches it points into
}

Session& BatchSession::session(int slot) const {
    if (slot < 0 || slot >= n_slots()) {
        throw Error("slot " + std::to_string(slot) + " is outside 0.." + std::to_string(n_slots() - 1));
    }
    return *slots_[static_cast<size_t>(slot)];
}

std::span<const float> BatchSession::prefill(int slot, std::span<const int32_t> tokens) {
    const auto out = session(slot).decode(tokens);
    float* dst = logits_.data() + static_cast<size_t>(slot) * n_vocab_;
    std::memcpy(dst, out.data(), out.size_bytes());
    return {dst, static_cast<size_t>(n_vocab_)};
}

void BatchSession::prepare() {
    if (exe_) return;
    GraphShape shape;
    shape.n_tokens = n_slots();
    shape.n_ctx = n_ctx();
    shape.kv_type = slots_.front()->options().kv_type;
    shape.logits_all = true;
    for (const auto& s : slots_) shape.seq_state_prefixes.push_back(s->state_prefix());
    batched_ = build_model_graph(model_, shape);
    exe_ = backend_.compile(batched_.graph);
}

void BatchSession::decode(std::span<const SlotToken> batch) {
    if (batch.empty()) throw Error("batched decode: no tokens");
    std::fill(tokens_buf_.begin(), tokens_buf_.end(), 0);
    std::fill(positions_buf_.begin(), positions_buf_.end(), -1);  // idle slots: padding
    for (const SlotToken& st : batch) {
        Session& s = session(st.slot);
        if (positions_buf_[static_cast<size_t>(st.slot)] >= 0) {
            throw Error("batched decode: slot " + std::to_string(st.slot) + " listed twice");
        }
        if (st.token < 0 || st.token >= n_vocab_) {
            throw Error("token id " + std::to_string(st.token) + " is outside the vocabulary of " +
                        std::to_string(n_vocab_));
        }
        if (s.n_past() >= s.n_ctx()) {
            throw Error("slot " + std::to_string(st.slot) + ": context is full (" + std::to_string(s.n_ctx()) +
                        " tokens)");
        }
        tokens_buf_[static_cast<size_t>(st.slot)] = st.token;
        positions_buf_[static_cast<size_t>(st.slot)] = s.n_past();
    }
    prepare();
    exe_->write(batched_.tokens, as_bytes(tokens_buf_));
    exe_->write(batched_.positions, as_bytes(positions_buf_));
    exe_->write(batched_.output_rows, as_bytes(rows_buf_));
    exe_->run();
    exe_->read(batched_.logits, {reinterpret_cast<uint8_t*>(all_logits_.data()), all_logits_.size() * sizeof(float)});
    const size_t row = static_cast<size_t>(n_vocab_);
    for (const SlotToken& st : batch) {
        const size_t at = static_cast<size_t>(st.slot) * row;
        std::memcpy(logits_.data() + at, all_logits_.data() + at, row * sizeof(float));
        session(st.slot).advance(1);
    }
}

std::span<const float> BatchSession::logits(int slot) const {
    session(slot);  // range check
    return {logits_.data() + static_cast<size_t>(slot) * n_vocab_, static_cast<size_t>(n_vocab_)};
}

}  // namespace kiln
