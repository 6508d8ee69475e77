#include "apps/server/token_json.h"

#include <bit>
#include <cstring>

#include "apps/server/json_fields.h"
#include "models/tokenizer/tokenizer.h"
#include "models/utf8.h"

namespace kiln::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxInputs = 2048;  // OpenAI's limit on inputs per embeddings request

// A JSON array of token ids, each within the vocabulary.
std::vector<int32_t> token_ids(const json& array, const std::string& where, int32_t n_vocab) {
    std::vector<int32_t> ids;
    ids.reserve(array.size());
    for (size_t i = 0; i < array.size(); ++i) {
        const json& v = array[i];
        if (!v.is_number_integer()) throw wrong_type(where + "[" + std::to_string(i) + "]", "a token id (an integer)");
        const int64_t id = v.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX))
                                                  : v.get<int64_t>();
        if (id < 0 || id >= n_vocab) {
            throw bad_request("invalid_value", where + "[" + std::to_string(i) + "]: token " + std::to_string(id) +
                                                   " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
        ids.push_back(static_cast<int32_t>(id));
    }
    return ids;
}

}  // namespace

TokenizeRequest parse_tokenize_request(std::string_view body_text) {
    const json body = parse_object_body(body_text);
    TokenizeRequest r;
    const json* content = field(body, "content");
    if (!content) throw bad_request("missing_field", "'content' is required");
    if (!content->is_string()) throw wrong_type("content", "a string");
    r.content = content->get<std::string>();
    r.add_special = boolean(body, "add_special").value_or(r.add_special);
    r.parse_special = boolean(body, "parse_special").value_or(r.parse_special);
    r.with_pieces = boolean(body, "with_pieces").value_or(r.with_pieces);
    return r;
}

std::string tokenize_json(const Tokenizer& tokenizer, const std::vector<int32_t>& ids, bool with_pieces) {
    json tokens = json::array();
    for (const int32_t id : ids) {
        if (!with_pieces) {
            tokens.push_back(id);
            continue;
        }
        const std::string piece = tokenizer.token_to_piece(id, /*render_special=*/true);
        json p;
        if (utf8_first_invalid(piece) == std::string::npos) {
            p = piece;
        } else {
            p = json::array();
            for (const unsigned char c : piece) p.push_back(c);
        }
        tokens.push_back({{"id", id}, {"piece", p}});
    }
    return dump({{"tokens", tokens}});
}

std::vector<int32_t> parse_detokenize_request(std::string_view body_text, int32_t n_vocab) {
    const json body = parse_object_body(body_text);
    const json* tokens = field(body, "tokens");
    if (!tokens) throw bad_request("missing_field", "'tokens' is required");
    if (!tokens->is_array()) throw wrong_type("tokens", "an array of token ids");
    return token_ids(*tokens, "tokens", n_vocab);
}

std::string detokenize_json(const std::string& text) { return dump({{"content", text}}); }

EmbeddingsRequest parse_embeddings_request(std::string_view body_text, int32_t n_vocab, int n_embd) {
    const json body = parse_object_body(body_text);
    EmbeddingsRequest r;
    const json* input = field(body, "input");
    if (!input) throw bad_request("missing_field", "'input' is required");
    if (input->is_string()) {
        r.inputs.emplace_back(input->get<std::string>());
    } else if (input->is_array() && !input->empty() && (*input)[0].is_number()) {
        r.inputs.emplace_back(token_ids(*input, "input", n_vocab));  // one input given as ids
    } else if (input->is_array()) {
        if (input->size() > kMaxInputs) {
            throw bad_request("invalid_value", "'input' holds at most " + std::to_string(kMaxInputs) + " inputs");
        }
        for (size_t i = 0; i < input->size(); ++i) {
            const json& one = (*input)[i];
            const std::string where = "input[" + std::to_string(i) + "]";
            if (one.is_string()) {
                r.inputs.emplace_back(one.get<std::string>());
            } else if (one.is_array()) {
                r.inputs.emplace_back(token_ids(one, where, n_vocab));
            } else {
                throw wrong_type(where, "a string or an array of token ids");
            }
        }
    } else {
        throw wrong_type("input", "a string, an array of strings, or token ids");
    }
    if (r.inputs.empty()) throw bad_request("invalid_value", "'input' must not be empty");
    for (size_t i = 0; i < r.inputs.size(); ++i) {
        const bool empty = std::visit([](const auto& v) { return v.empty(); }, r.inputs[i]);
        if (empty) throw bad_request("invalid_value", "input[" + std::to_string(i) + "] is empty");
    }
    if (const json* f = field(body, "encoding_format")) {
        if (!f->is_string()) throw wrong_type("encoding_format", "a string");
        const std::string format = f->get<std::string>();
        if (format != "float" && format != "base64") {
            throw bad_request("invalid_value", "'encoding_format' must be \"float\" or \"base64\"");
        }
        r.base64 = format == "base64";
    }
    if (auto d = integer(body, "dimensions", 1, 1 << 20); d && *d != n_embd) {
        throw bad_request("unsupported_value", "'dimensions' must be the model's " + std::to_string(n_embd) +
                                                   ": shortened embeddings are not supported");
    }
    if (const json* m = field(body, "model"); m && !m->is_string()) throw wrong_type("model", "a string");
    return r;
}

std::string embeddings_json(const std::vector<std::vector<float>>& vectors, bool base64, const std::string& model,
                            int prompt_tokens) {
    json data = json::array();
    for (size_t i = 0; i < vectors.size(); ++i) {
        json e = {{"object", "embedding"}, {"index", i}};
        if (base64) {
            static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian float32");
            std::string bytes(vectors[i].size() * sizeof(float), '\0');
            std::memcpy(bytes.data(), vectors[i].data(), bytes.size());
            e["embedding"] = base64_encode(bytes);
        } else {
            e["embedding"] = vectors[i];
        }
        data.push_back(std::move(e));
    }
    return dump({{"object", "list"},
                 {"data", data},
                 {"model", model},
                 {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}});
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace kiln::server
