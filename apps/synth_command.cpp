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
#include "models/quantize/quant_mix.h"
#include "models/synth/synthetic.h"

namespace kiln {
namespace {

const std::vector<FlagSpec> kFlags = {
    {"--like", "", true, "the shape to copy (default tiny); see the list below"},
    {"--shape", "", true, "the same as --like"},
    {"--dtype", "", true, "every matrix in this dtype (f32 (default), f16, bf16, q8_0, q4_0, q4_K, q6_K, ...), or a quantization mix as kiln quantize takes it (Q4_K_M, Q5_K_S, ...)"},
    {"--vocab-from", "", true, "copy the tokenizer (and vocabulary size) from this GGUF"},
    {"--seed", "", true, "random seed (default 42)"},
    {"--tied", "", false, "no output.weight: the output head reuses token_embd"},
    {"--untied", "", false, "write output.weight even where the shape ties it"},
    {"--header-only", "", false, "leave tensor data as holes: a file of full size costing no disk, weights read as zeros (to check memory budgets and graphs of any shape)"},
    {"--threads", "-t", true, "threads (default: all)"},
    {"--help", "-h", false, "show this help"},
};

std::string shape_list() {
    std::ostringstream o;
    for (const std::string& name : synth_shape_names()) {
        const SynthShape s = *synth_shape(name);
        o << "  " << std::left << std::setw(14) << name << s.arch << ", " << s.n_layer << " layers, embedding "
          << s.n_embd << ", heads " << s.n_head << "/" << s.n_head_kv << ", ff " << s.n_ff;
        if (s.n_expert) {
            o << " (experts " << s.n_expert << ", " << s.n_expert_used << " per token, ff " << s.n_ff_exp;
            if (s.n_ff_shexp) o << ", shared " << s.n_ff_shexp;
            o << ")";
        }
        o << ", vocab " << s.n_vocab
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
    std::string type_label = "f32";
    if (auto d = args.get("--dtype")) {
        type_label = *d;
        if (auto t = dtype_from_name(*d); t && info(*t).computable) {
            o.dtype = *t;
        } else {
            const QuantMix* mix = find_quant_mix(*d);
            if (!mix) {
                throw Error("kiln synth: unknown dtype or mix '" + *d + "' (mixes: " + quant_mix_names() + ")");
            }
            o.dtype = mix->base;
            o.file_type = mix->file_type;
            const uint32_t n_layer = s->n_layer;
            o.matrix_type = [mix, n_layer, &o](const std::string& name, uint64_t cols, uint64_t rows) {
                const bool tied = o.tied_output.value_or(o.shape.tied_output);
                return choose_tensor_type(*mix, TensorFacts{name, DType::F32, {cols, rows}}, n_layer, tied).type;
            };
        }
    }
    o.seed = static_cast<uint64_t>(args.get_int("--seed", 0, INT64_MAX).value_or(42));
    if (args.has("--tied") && args.has("--untied")) throw Error("kiln synth: --tied and --untied contradict");
    if (args.has("--tied")) o.tied_output = true;
    if (args.has("--untied")) o.tied_output = false;
    if (auto v = args.get("--vocab-from")) o.vocab_from = *v;
    o.threads = static_cast<unsigned>(args.get_int("--threads", 1, 1024).value_or(0));
    o.header_only = args.has("--header-only");
    const auto t0 = std::chrono::steady_clock::now();
    // Progress once per tenth of the tensors, for jobs that take a while (real shapes).
    TenthsProgress tenths;
    o.progress = [&](const std::string&, size_t done, size_t total) {
        const int percent = tenths.update(done, total);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (percent >= 0 && percent < 100 && secs > 2.0) {
            err << "kiln synth: " << percent << "% (" << done << "/" << total << " tensors)\n" << std::flush;
        }
    };
    const std::string path = args.positionals()[0];
    const SynthSummary sum = write_synthetic_model(path, o);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out << "wrote " << path << " (" << o.shape.arch << " like " << o.shape.name << ", " << type_label << ", "
        << human_count(sum.parameters) << " parameters, " << human_bytes(sum.bytes) << ", vocab " << sum.n_vocab
        << ", " << std::fixed << std::setprecision(1) << secs << " s)\n";
    if (sum.fallbacks) {
        out << sum.fallbacks << " matrices written in another type: their rows do not fit " << dtype_name(o.dtype)
            << "'s blocks (as kiln quantize falls back)\n";
    }
    return 0;
}

}  // namespace kiln
