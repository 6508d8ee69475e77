// `kiln embed -m MODEL -p TEXT [-p TEXT...] [--pooling mean|cls|last] [--no-normalize] [-o text|json]`:
// one embedding per text (models/session/embedding.h), as numbers on a line or as OpenAI's
// /v1/embeddings JSON.
#include <cstdio>
#include <ostream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/model_flags.h"
#include "apps/text_file.h"
#include "graph/error.h"
#include "models/session/embedding.h"

namespace kiln {

int embed_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const auto flags = join_flags({model_flags(),
                                   {
                                       {"--prompt", "-p", true, "text to embed (repeatable: one embedding each)"},
                                       {"--file", "-f", true, "embed a file's text"},
                                       {"--pooling", "", true, "mean, cls or last (default: the model's, else mean)"},
                                       {"--no-normalize", "", false, "keep the pooled vector's length (default: unit length)"},
                                       {"--output", "-o", true, "text (default: numbers on one line each) or json"},
                                       {"--help", "-h", false, "show this help"},
                                   }});
    Args args("embed", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln embed -m MODEL.gguf -p TEXT [-p TEXT...] [options]\n" << describe_flags(flags);
        return 0;
    }
    if (!args.positionals().empty()) throw Error("kiln embed: unexpected argument '" + args.positionals()[0] + "'");
    std::vector<std::string> texts = args.get_all("--prompt");
    if (auto f = args.get("--file")) texts.push_back(read_text_file(*f, "-f"));
    if (texts.empty()) throw Error("kiln embed: nothing to embed (-p TEXT or -f FILE)");
    const std::string format = args.get("--output").value_or("text");
    if (format != "text" && format != "json") throw Error("kiln embed: --output must be text or json, not '" + format + "'");
    std::optional<Pooling> pooling;
    if (auto p = args.get("--pooling")) pooling = parse_pooling(*p, "--pooling");

    LoadedModel lm = load_model(args, "embed", err, /*embeddings=*/true);
    if (!pooling) pooling = model_pooling(*lm.model).value_or(Pooling::Mean);
    nlohmann::json data = nlohmann::json::array();
    int total_tokens = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::vector<int32_t> ids = lm.tokenizer->encode(texts[i], true, false);
        total_tokens += static_cast<int>(ids.size());
        const std::vector<float> v = embed(*lm.session, ids, *pooling, !args.has("--no-normalize"));
        if (format == "json") {
            data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", v}});
            continue;
        }
        char buf[32];
        for (size_t k = 0; k < v.size(); ++k) {
            std::snprintf(buf, sizeof buf, "%s%.9g", k ? " " : "", static_cast<double>(v[k]));
            out << buf;
        }
        out << "\n";
    }
    if (format == "json") {
        out << nlohmann::json{{"object", "list"}, {"data", data}, {"model", lm.model->hparams().arch},
                              {"usage", {{"prompt_tokens", total_tokens}, {"total_tokens", total_tokens}}}}
                   .dump()
            << "\n";
    }
    err << "pooling: " << pooling_name(*pooling) << ", " << lm.session->row_width() << " dimensions\n";
    return 0;
}

}  // namespace kiln
