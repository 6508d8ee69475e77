#pragma once
// The served model as an embedder for /v1/embeddings: a Session that outputs hidden states
// (models/session/embedding.h), made on first use — most servers never embed, and it costs a
// KV cache — on the slots' backend. Not thread-safe: the server calls it only on the
// scheduler's engine thread (Scheduler::run_on_engine), so it never uses the backend while a
// step does.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "models/session/embedding.h"
#include "models/session/session.h"

namespace kiln::server {

class Embedder {
public:
    // `options.embeddings` is set here. `model` and `backend` must outlive the embedder.
    // `pooling`: the model's (`<arch>.pooling_type`), else mean, when not given.
    Embedder(const Model& model, Backend& backend, SessionOptions options, std::optional<Pooling> pooling = {});
    ~Embedder();

    // One unit-length vector of n_embd floats, pooled as pooling() says. Throws kiln::Error for no tokens or more than n_ctx(), or when the session cannot be
    // made (its memory budget does not fit the backend).
    std::vector<float> embed(std::span<const int32_t> tokens);

    int n_ctx() const { return n_ctx_; }
    int n_embd() const { return n_embd_; }
    Pooling pooling() const { return pooling_; }

private:
    const Model& model_;
    Backend& backend_;
    SessionOptions options_;
    int n_ctx_ = 0;
    int n_embd_ = 0;
    Pooling pooling_ = Pooling::Mean;
    std::unique_ptr<Session> session_;  // made by the first embed()
};

}  // namespace kiln::server
