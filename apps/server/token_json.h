#pragma once
// The wire format of the routes that work on tokens rather than generate: llama-server's
// POST /tokenize and /detokenize, and OpenAI's POST /v1/embeddings. Parsing checks every field
// (ApiError 400 naming it); ids are checked against the vocabulary here, so nothing later sees
// one outside it.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "apps/server/openai_json.h"

namespace kiln {
class Tokenizer;
}

namespace kiln::server {

struct TokenizeRequest {
    std::string content;
    bool add_special = false;   // BOS/EOS as the model adds them (llama-server's default: no)
    bool parse_special = true;  // "<|im_start|>" in the text becomes that token
    bool with_pieces = false;   // answer [{"id", "piece"}] rather than ids
};
TokenizeRequest parse_tokenize_request(std::string_view body);
// {"tokens": [ids]} or, with pieces, {"tokens": [{"id": N, "piece": "text"}]}; a piece that is
// not valid UTF-8 on its own (part of a character) is given as its byte values.
std::string tokenize_json(const Tokenizer& tokenizer, const std::vector<int32_t>& ids, bool with_pieces);

// {"tokens": [ids]}; 400 for an id outside the vocabulary of `n_vocab`.
std::vector<int32_t> parse_detokenize_request(std::string_view body, int32_t n_vocab);
// {"content": "text"}
std::string detokenize_json(const std::string& text);

struct EmbeddingsRequest {
    // Each input: a text, or token ids (checked against the vocabulary).
    std::vector<std::variant<std::string, std::vector<int32_t>>> inputs;
    bool base64 = false;  // encoding_format "base64": little-endian float32 bytes, base64
};
// `input`: a string, an array of strings, an array of ids, or an array of arrays of ids; at
// most 2048 inputs, none empty. `dimensions` other than the model's `n_embd` is refused.
EmbeddingsRequest parse_embeddings_request(std::string_view body, int32_t n_vocab, int n_embd);
// {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": ...}], "model",
// "usage": {"prompt_tokens", "total_tokens"}}
std::string embeddings_json(const std::vector<std::vector<float>>& vectors, bool base64, const std::string& model,
                            int prompt_tokens);

// RFC 4648 base64 of `bytes` (with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace kiln::server
