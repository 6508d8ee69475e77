#include "models/session/embedding.h"

#include <cmath>
#include <string>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/model.h"
#include "models/session/session.h"

namespace kiln {

std::optional<Pooling> model_pooling(const Model& model) {
    const std::string key = model.hparams().arch + ".pooling_type";
    const std::optional<uint64_t> v = model.file().get_uint(key);
    if (!v || *v == 0) return std::nullopt;
    if (*v == 1) return Pooling::Mean;
    if (*v == 2) return Pooling::Cls;
    if (*v == 3) return Pooling::Last;
    throw Error(key + " " + std::to_string(*v) + " is not a pooling kiln supports (1 mean, 2 cls, 3 last)");
}

Pooling parse_pooling(std::string_view name, std::string_view flag) {
    if (name == "mean") return Pooling::Mean;
    if (name == "cls") return Pooling::Cls;
    if (name == "last") return Pooling::Last;
    throw Error(std::string(flag) + " " + quoted(name) + " is not one of mean, cls, last");
}

std::string_view pooling_name(Pooling p) {
    switch (p) {
        case Pooling::Mean: return "mean";
        case Pooling::Cls: return "cls";
        case Pooling::Last: return "last";
    }
    return "?";
}

std::vector<float> embed(Session& session, std::span<const int32_t> tokens, Pooling pooling, bool normalize) {
    if (!session.options().embeddings) throw Error("embed: the session does not output embeddings");
    if (tokens.empty()) throw Error("embed: no tokens to embed");
    if (static_cast<int64_t>(tokens.size()) > session.n_ctx())
        throw Error("embed: " + std::to_string(tokens.size()) + " tokens exceed the " + std::to_string(session.n_ctx()) +
                    "-token context (use -c)");
    session.clear();
    session.decode(tokens);
    const size_t width = static_cast<size_t>(session.row_width());
    std::vector<double> sum(width, 0.0);  // double: a mean over thousands of rows keeps its digits
    const int n = static_cast<int>(tokens.size());
    const int from = pooling == Pooling::Last ? n - 1 : 0;
    const int to = pooling == Pooling::Mean ? n : from + 1;
    for (int i = from; i < to; ++i) {
        const std::span<const float> row = session.logits_of(i);
        for (size_t k = 0; k < width; ++k) sum[k] += row[k];
    }
    std::vector<float> out(width);
    double norm = 0.0;
    for (size_t k = 0; k < width; ++k) {
        sum[k] /= static_cast<double>(to - from);
        norm += sum[k] * sum[k];
    }
    const double scale = normalize && norm > 0 ? 1.0 / std::sqrt(norm) : 1.0;
    for (size_t k = 0; k < width; ++k) out[k] = static_cast<float>(sum[k] * scale);
    return out;
}

}  // namespace kiln
