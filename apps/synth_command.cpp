// `kiln synth OUT.gguf --like SHAPE [--dtype T] [--vocab-from V.gguf] [--seed N] [--tied|--untied]
// [-t N]`: a random-weight model of a real model's shape (or a small test shape), written with
// kiln's GGUF writer and quantizers. llama.cpp loads the result too.
#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/format.h"
#include "graph/error.h"
#include "models/synth/synthetic.h"

namespace kiln {
namespace {

const std::vector<FlagSpec> kFlags = {
    {"--like", "", true, "the shape to copy (default tiny); see the list below"},
    {"--shape", "", true, "the same as --like"},
    {"--dtype", "", true, "weight dtype: f32 (default), f16, bf16, q8_0, q4_0, q4_K, q6_K, ..."},
    {"--vocab-from", "", true, "copy the tokenizer (and vocabulary size) from this GGUF"},
    {"--seed", "", true, "random seed (default 42)"},
    {"--tied", "", false, "no output.weight: the output head reuses token_embd"},
    {"--untied", "", false, "write output.weight even where the shape ties it"},
    {"--threads", "-t", true, "threads (default: all)"},
    {"--help", "-h", false, "show this help"},
};

std::string shape_list() {
    std::ostringstream o;
    for (const std::string& name : synth_shape_names()) {
        const SynthShape s = *synth_shape(name);
        o << "  " << std::left << std::setw(14) << name << s.arch << ", " << s.n_layer << " layers, embedding "
          << s.n_embd << ", heads " << s.n_head << "/" << s.n_head_kv << ", ff " << s.n_ff << ", vocab " << s.n_vocab
          << (s.vocab == SynthVocab::ByteLevelBpe ? " (BPE)" : " (SPM)") << (s.tied_output ? ", tied" : "") << "\n";
    }
    return o.str();
}

}  // namespace

int synth_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    Args args("synth", kFlags, argv);
    if (args.has("--help")) {
        out << "usage: kiln synth OUT.gguf --like SHAPE [options]\n" << describe_flags(kFlags) << "shapes:\n"
            << shape_list();
        return 0;
    }
    if (args.positionals().size() != 1) {
        err << "usage: kiln synth OUT.gguf --like SHAPE [--dtype T] [--vocab-from V.gguf] [--seed N]\n";
        return 1;
    }
    SynthOptions o;
    const std::string like = args.get("--like").value_or(args.get("--shape").value_or("tiny"));
    auto s = synth_shape(like);
    if (!s) {
        std::string known;
        for (const auto& n : synth_shape_names()) known += (known.empty() ? "" : ", ") + n;
        throw Error("kiln synth: unknown shape '" + like + "' (known: " + known + ")");
    }
    o.shape = *s;
    if (auto d = args.get("--dtype")) {
        auto t = dtype_from_name(*d);
        if (!t || !info(*t).computable) throw Error("kiln synth: unknown or unsupported dtype '" + *d + "'");
        o.dtype = *t;
    }
    o.seed = static_cast<uint64_t>(args.get_int("--seed", 0, INT64_MAX).value_or(42));
    if (args.has("--tied") && args.has("--untied")) throw Error("kiln synth: --tied and --untied contradict");
    if (args.has("--tied")) o.tied_output = true;
    if (args.has("--untied")) o.tied_output = false;
    if (auto v = args.get("--vocab-from")) o.vocab_from = *v;
    o.threads = static_cast<unsigned>(args.get_int("--threads", 1, 1024).value_or(0));
    const auto t0 = std::chrono::steady_clock::now();
    o.progress = [&](const std::string& name, size_t done, size_t total) {
        err << "\rsynth: " << done + 1 << "/" << total << " tensors (" << name << ")\x1b[K" << std::flush;
    };
    const std::string path = args.positionals()[0];
    const SynthSummary sum = write_synthetic_model(path, o);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    err << "\r\x1b[K";
    out << "wrote " << path << " (" << o.shape.arch << " like " << o.shape.name << ", " << dtype_name(o.dtype) << ", "
        << human_count(sum.parameters) << " parameters, " << human_bytes(sum.bytes) << ", vocab " << sum.n_vocab
        << ", " << std::fixed << std::setprecision(1) << secs << " s)\n";
    return 0;
}

}  // namespace kiln
