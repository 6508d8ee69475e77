#include "apps/model_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "apps/backend_flags.h"
#include "graph/error.h"

namespace kiln {
namespace {

float parse_float(const Args& args, const std::string& flag, float fallback) {
    auto v = args.get(flag);
    if (!v) return fallback;
    errno = 0;
    char* end = nullptr;
    const float f = std::strtof(v->c_str(), &end);
    if (v->empty() || *end != '\0' || errno == ERANGE || !std::isfinite(f)) {
        throw Error("option '" + flag + "': '" + *v + "' is not a number");
    }
    return f;
}

}  // namespace

std::vector<FlagSpec> join_flags(std::initializer_list<std::vector<FlagSpec>> lists) {
    std::vector<FlagSpec> all;
    for (const auto& l : lists) all.insert(all.end(), l.begin(), l.end());
    return all;
}

std::vector<FlagSpec> model_flags() {
    return join_flags({backend_flags(), {
        {"--model", "-m", true, "GGUF model file"},
        {"--ctx-size", "-c", true, "KV cache size in tokens (default: the model's, at most 4096)"},
        {"--batch-size", "-b", true, "largest prompt chunk per graph (default 256)"},
        {"--kv-f32", "", false, "keep the KV cache in f32 instead of f16"},
    }});
}

std::vector<FlagSpec> sampling_flags() {
    return {
        {"--temp", "", true, "temperature (default 0.8; 0 = greedy)"},
        {"--top-k", "", true, "top-k (default 40; 0 = off)"},
        {"--top-p", "", true, "top-p (default 0.95; 1 = off)"},
        {"--min-p", "", true, "min-p (default 0.05; 0 = off)"},
        {"--repeat-penalty", "", true, "repetition penalty (default 1 = off)"},
        {"--repeat-last-n", "", true, "tokens the penalties look back (default 64; -1 = all)"},
        {"--frequency-penalty", "", true, "frequency penalty (default 0)"},
        {"--presence-penalty", "", true, "presence penalty (default 0)"},
        {"--seed", "-s", true, "random seed (default: random)"},
    };
}

SamplerParams sampler_params(const Args& args) {
    SamplerParams p;
    p.temperature = parse_float(args, "--temp", p.temperature);
    p.top_k = static_cast<int>(args.get_int("--top-k", 0, INT32_MAX).value_or(p.top_k));
    p.top_p = parse_float(args, "--top-p", p.top_p);
    p.min_p = parse_float(args, "--min-p", p.min_p);
    p.repeat_penalty = parse_float(args, "--repeat-penalty", p.repeat_penalty);
    p.penalty_last_n = static_cast<int>(args.get_int("--repeat-last-n", -1, SamplerParams::kMaxPenaltyLastN).value_or(p.penalty_last_n));
    p.frequency_penalty = parse_float(args, "--frequency-penalty", p.frequency_penalty);
    p.presence_penalty = parse_float(args, "--presence-penalty", p.presence_penalty);
    if (auto s = args.get_int("--seed", -1, INT64_MAX)) p.seed = *s < 0 ? SamplerParams::kRandomSeed : static_cast<uint64_t>(*s);
    p.validate();
    return p;
}

LoadedModel load_model(const Args& args, const std::string& command, std::ostream& notes, bool embeddings) {
    auto path = args.get("--model");
    if (!path) throw Error("kiln " + command + ": no model given (-m MODEL.gguf)");
    LoadedModel lm;
    lm.model = std::make_unique<Model>(Model::load(*path, weight_memory(args)));
    lm.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(lm.model->file()));
    if (lm.tokenizer->vocab().size() != static_cast<int32_t>(lm.model->hparams().vocab_size)) {
        throw Error(*path + ": the tokenizer has " + std::to_string(lm.tokenizer->vocab().size()) +
                    " tokens but the model " + std::to_string(lm.model->hparams().vocab_size));
    }
    lm.backend = make_backend(args, command, notes);
    SessionOptions so;
    so.n_ctx = static_cast<int>(args.get_int("--ctx-size", 1, 1 << 20).value_or(0));
    so.n_batch = static_cast<int>(args.get_int("--batch-size", 1, 1 << 16).value_or(so.n_batch));
    so.kv_type = args.has("--kv-f32") ? DType::F32 : DType::F16;
    so.embeddings = embeddings;
    place_with_fallback(lm.backend, args, command, notes, [&](Backend& backend) {
        lm.session = std::make_unique<Session>(*lm.model, backend, so);
        try {
            lm.session->prepare(1);  // compiling uploads the weights and allocates the KV cache
        } catch (...) {
            lm.session.reset();
            throw;
        }
    });
    return lm;
}

}  // namespace kiln
