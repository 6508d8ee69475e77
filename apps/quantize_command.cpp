// `kiln quantize IN.gguf OUT.gguf TYPE [-t N]`: write IN's weights in a quantization mix
// (models/quantize). Progress goes to stderr every 10% of the input's tensor bytes, then a
// summary: sizes, tensors per type, fallbacks, seconds.
#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/format.h"
#include "graph/error.h"
#include "models/quantize/quantize_model.h"

namespace kiln {
namespace {

const std::vector<FlagSpec> kFlags = {
    {"--threads", "-t", true, "threads converting rows (default: every hardware thread)"},
    {"--help", "-h", false, "show this help"},
};

const char* kMixHelp =
    "Weight matrices (tensors of 2+ dimensions) get TYPE's base type; norms, biases and\n"
    "rope_freqs stay as they are. kiln's mixes:\n"
    "  F32, F16, BF16, Q8_0   every matrix that type (output head too)\n"
    "  Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL\n"
    "                         that type; the output head Q6_K\n"
    "  Q2_K, Q3_K_*, Q4_K_*, Q5_K_*, Q6_K\n"
    "                         base Q2_K..Q6_K; the output head Q6_K; attn_v and ffn_down more\n"
    "                         bits in some layers: _S the first and last eighth of the layers,\n"
    "                         _M (and Q2_K) those plus every third layer between, _L all layers:\n"
    "                           Q2_K    attn_v q4_K  ffn_down q3_K     Q3_K_S  both q4_K\n"
    "                           Q3_K_M  attn_v q5_K  ffn_down q4_K     Q3_K_L  both q5_K\n"
    "                           Q4_K_S  both q5_K    Q4_K_M, Q5_K_S, Q5_K_M  both q6_K\n"
    "The output head is output.weight, or token_embd.weight when the model ties them.\n"
    "Rows that do not fit a type's blocks fall back: q4_K->q5_0, q5_K->q5_1, q6_K->q8_0,\n"
    "q2_K/q3_K->iq4_nl, and f16 when no 32-element block fits.\n";

std::string type_counts(const std::map<DType, size_t>& counts) {
    std::string s;
    for (const auto& [t, n] : counts) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t)) + " " + std::to_string(n);
    return s;
}

}  // namespace

int quantize_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    Args args("quantize", kFlags, argv);
    if (args.has("--help")) {
        out << "usage: kiln quantize IN.gguf OUT.gguf TYPE [-t N]\n"
            << describe_flags(kFlags) << "\nTYPE (any case): " << quant_mix_names() << "\n\n"
            << kMixHelp;
        return 0;
    }
    if (args.positionals().size() != 3) {
        err << "usage: kiln quantize IN.gguf OUT.gguf TYPE [-t N]   (kiln quantize --help lists the types)\n";
        return 1;
    }
    const std::string in = args.positionals()[0], path = args.positionals()[1];
    const QuantMix& mix = quant_mix(args.positionals()[2]);
    QuantizeOptions o;
    if (auto t = args.get_int("--threads", 1, 1024)) o.threads = static_cast<unsigned>(*t);
    TenthsProgress tenths;
    o.progress = [&](const QuantizeProgress& p) {
        const int percent = tenths.update(p.bytes_done, p.total_bytes);
        if (percent < 0) return;
        err << "kiln quantize: " << percent << "% (" << p.tensors_done << "/" << p.n_tensors << " tensors)\n";
        err.flush();
    };
    // Every check comes before the first line of output, so an error is the only line.
    const GgufFile file = GgufFile::open(in);
    check_quantize_paths(in, path);
    const QuantizePlan plan = plan_quantization(file, mix);
    err << "kiln quantize: " << in << " -> " << path << " as " << mix.name << ", " << plan.tensors.size()
        << " tensors, " << o.threads << " threads\n";
    for (const std::string& line : quantize_notices(plan)) err << "kiln quantize: note: " << line << "\n";
    const QuantizeSummary s = write_quantized(file, plan, path, o);

    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", s.seconds);
    out << "wrote " << path << " (" << mix.name << ", file type " << mix.file_type << "): " << human_bytes(s.in_bytes)
        << " -> " << human_bytes(s.out_bytes) << " in " << secs << " s\n";
    out << "tensors: " << type_counts(s.tensors_per_type) << "\n";
    if (s.n_fallbacks > 0) {
        std::string detail;
        for (const auto& [types, n] : s.fallbacks) {
            detail += (detail.empty() ? "" : ", ") + std::string(dtype_name(types.first)) + "->" +
                      std::string(dtype_name(types.second)) + " " + std::to_string(n);
        }
        out << "fallbacks: " << s.n_fallbacks << " (rows do not fit the block: " << detail << ")\n";
    } else {
        out << "fallbacks: 0\n";
    }
    return 0;
}

}  // namespace kiln
