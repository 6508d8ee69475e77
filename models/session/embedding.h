#pragma once
// The model as an embedder: a session made with SessionOptions::embeddings outputs each token's
// final hidden state (after the output norm); embed() pools those rows into one vector. Pooling
// is what the model's metadata asks (`<arch>.pooling_type`, llama.cpp's key), else mean.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

class Model;
class Session;

enum class Pooling { Mean, Cls, Last };

// `<arch>.pooling_type`: 1 mean, 2 cls (the first token), 3 last; nullopt when absent or 0
// (none). Other values (rank) are refused: kiln::Error naming the key.
std::optional<Pooling> model_pooling(const Model& model);
// "mean", "cls", "last"; kiln::Error naming `flag` otherwise.
Pooling parse_pooling(std::string_view name, std::string_view flag);
std::string_view pooling_name(Pooling p);

// One vector of n_embd floats for `tokens`, evaluated from an empty cache (the session is
// cleared first), pooled, and scaled to unit length (L2) when `normalize` (as OpenAI's are).
// Throws kiln::Error when the session does not output embeddings, for no tokens, or for more
// than its context holds.
std::vector<float> embed(Session& session, std::span<const int32_t> tokens, Pooling pooling, bool normalize);

}  // namespace kiln
