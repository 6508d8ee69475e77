// `kiln synth OUT.gguf [--shape S] [--dtype T] [--seed N] [--tied]`: write a random-weight
// LLaMA-architecture model with kiln's GGUF writer.
#include <ostream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/format.h"
#include "graph/error.h"
#include "models/synthetic.h"

namespace kiln {
namespace {

const std::vector<FlagSpec> kFlags = {
    {"--shape", "", true, "tiny (default), tinyllama or llama2-7b"},
    {"--dtype", "", true, "weight dtype: f32 (default), f16, bf16, q8_0, q4_0, q4_K, ..."},
    {"--seed", "", true, "random seed (default 42)"},
    {"--tied", "", false, "no output.weight: the output head reuses token_embd"},
    {"--help", "-h", false, "show this help"},
};

}  // namespace

int synth_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    Args args("synth", kFlags, argv);
    if (args.has("--help")) {
        out << "usage: kiln synth OUT.gguf [options]\n" << describe_flags(kFlags);
        return 0;
    }
    if (args.positionals().size() != 1) {
        err << "usage: kiln synth OUT.gguf [--shape S] [--dtype T] [--seed N] [--tied]\n";
        return 1;
    }
    SynthOptions o;
    const std::string shape = args.get("--shape").value_or("tiny");
    auto s = synth_shape(shape);
    if (!s) {
        std::string known;
        for (const auto& n : synth_shape_names()) known += (known.empty() ? "" : ", ") + n;
        throw Error("kiln synth: unknown shape '" + shape + "' (known: " + known + ")");
    }
    o.shape = *s;
    if (auto d = args.get("--dtype")) {
        auto t = dtype_from_name(*d);
        if (!t || !info(*t).computable) throw Error("kiln synth: unknown or unsupported dtype '" + *d + "'");
        o.dtype = *t;
    }
    o.seed = static_cast<uint64_t>(args.get_int("--seed", 0, INT64_MAX).value_or(42));
    o.tied_output = args.has("--tied");
    const std::string path = args.positionals()[0];
    write_synthetic_llama(path, o);
    out << "wrote " << path << " (llama, shape " << o.shape.name << ", " << dtype_name(o.dtype) << ")\n";
    return 0;
}

}  // namespace kiln
