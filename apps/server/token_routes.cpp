// The routes that work on tokens rather than generate: POST /tokenize and /detokenize
// (llama-server's), POST /v1/embeddings (OpenAI's). Each takes the body and answers its JSON, or
// throws ApiError; HttpServer::body_routes reads the body and sends either.
#include <variant>

#include "apps/server/embedder.h"
#include "apps/server/http_server.h"
#include "apps/server/token_json.h"
#include "graph/error.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln::server {

std::string HttpServer::tokenize(const std::string& body) const {
    const TokenizeRequest r = parse_tokenize_request(body);
    const std::vector<int32_t> ids = model_.tokenizer->encode(r.content, r.add_special, r.parse_special);
    return tokenize_json(*model_.tokenizer, ids, r.with_pieces);
}

std::string HttpServer::detokenize(const std::string& body) const {
    const std::vector<int32_t> ids = parse_detokenize_request(body, model_.tokenizer->vocab().size());
    // Control tokens as their text, as llama-server answers: /tokenize's ids come back whole.
    DecodeOptions options;
    options.render_special = true;
    return detokenize_json(model_.tokenizer->decode(ids, options));
}

std::string HttpServer::embeddings(const std::string& body) {
    if (!model_.embedder) throw ApiError(501, "invalid_request_error", "unsupported", "this server does not embed");
    Embedder& embedder = *model_.embedder;
    const EmbeddingsRequest r = parse_embeddings_request(body, model_.tokenizer->vocab().size(), embedder.n_embd());
    // Tokenized here, on the HTTP thread; only the evaluation waits for the engine.
    std::vector<std::vector<int32_t>> inputs;
    int prompt_tokens = 0;
    for (size_t i = 0; i < r.inputs.size(); ++i) {
        std::vector<int32_t> ids;
        if (const auto* text = std::get_if<std::string>(&r.inputs[i])) {
            ids = model_.tokenizer->encode(*text, /*add_special=*/true, /*parse_special=*/false);
        } else {
            ids = std::get<std::vector<int32_t>>(r.inputs[i]);
        }
        if (ids.empty()) throw bad_request("invalid_value", "input[" + std::to_string(i) + "] has no tokens");
        if (ids.size() > static_cast<size_t>(embedder.n_ctx())) {
            throw bad_request("context_length_exceeded", "input[" + std::to_string(i) + "] has " +
                                                             std::to_string(ids.size()) + " tokens; the context holds " +
                                                             std::to_string(embedder.n_ctx()));
        }
        prompt_tokens += static_cast<int>(ids.size());
        inputs.push_back(std::move(ids));
    }
    std::vector<std::vector<float>> vectors;
    vectors.reserve(inputs.size());
    try {
        // One engine visit per input: generation goes on between them.
        for (const std::vector<int32_t>& ids : inputs) {
            scheduler_.run_on_engine([&] { vectors.push_back(embedder.embed(ids)); });
        }
    } catch (const std::exception& e) {
        if (stopping_.load()) throw ApiError(503, "server_error", "shutting_down", e.what());
        if (auto why = scheduler_.unavailable()) throw ApiError(503, "server_error", "device_lost", *why);
        throw ApiError(500, "server_error", "embedding_failed", e.what());
    }
    return embeddings_json(vectors, r.base64, model_.name, prompt_tokens);
}

}  // namespace kiln::server
