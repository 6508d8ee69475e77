#include "apps/server/embedder.h"

#include "models/model.h"

namespace kiln::server {

Embedder::Embedder(const Model& model, Backend& backend, SessionOptions options, std::optional<Pooling> pooling)
    : model_(model), backend_(backend), options_(std::move(options)) {
    options_.embeddings = true;
    options_ = resolve_session_options(model_, options_);
    n_ctx_ = options_.n_ctx;
    n_embd_ = static_cast<int>(model_.hparams().n_embd);
    pooling_ = pooling ? *pooling : model_pooling(model_).value_or(Pooling::Mean);
}

Embedder::~Embedder() = default;

std::vector<float> Embedder::embed(std::span<const int32_t> tokens) {
    if (!session_) session_ = std::make_unique<Session>(model_, backend_, options_);
    return kiln::embed(*session_, tokens, pooling_, /*normalize=*/true);
}

}  // namespace kiln::server
