// `kiln info MODEL.gguf [--json] [--tensors]`: what a GGUF file holds, checked.
#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/format.h"
#include "apps/backend_flags.h"
#include "apps/graph_print.h"
#include "apps/memory_budget_print.h"
#include "apps/model_flags.h"
#include "backends/placed_backend.h"
#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/hparams.h"
#include "models/arch/architectures.h"
#include "models/model.h"

namespace kiln {
namespace {

const std::vector<FlagSpec> kFlags = join_flags({backend_flags(), {
    {"--model", "-m", true, "GGUF file (or give it as the first argument)"},
    {"--json", "", false, "print JSON instead of text"},
    {"--tensors", "", false, "list every tensor (name, dtype, shape, bytes, offset)"},
    {"--graph", "", false, "print the model's graph (nodes, shapes) and its memory plan"},
    {"--graph-tokens", "", true, "tokens per graph for --graph (default 1: decode)"},
    {"--ctx-size", "-c", true, "KV cache size for --graph (default: the model's, at most 4096)"},
    {"--batch-size", "-b", true, "largest prompt chunk for --graph's memory budget (default 256)"},
    {"--kv-f32", "", false, "budget an f32 KV cache for --graph"},
    {"--parallel", "-np", true, "sessions (kiln serve's slots) for --graph's memory budget (default 1)"},
    {"--help", "-h", false, "show this help"},
}});

struct DTypeTotal {
    uint64_t tensors = 0;
    uint64_t elements = 0;
    uint64_t bytes = 0;
};

struct ModelInfo {
    const GgufFile* file = nullptr;
    bool vocab_only = false;
    std::optional<ModelHparams> hparams;
    std::optional<TokenizerSummary> tokenizer;
    uint64_t parameters = 0;
    // A mixture of experts: parameters a token uses (every expert tensor counts used / experts).
    uint64_t active_parameters = 0;
    std::map<std::string, DTypeTotal> by_dtype;
};

// Expert tensors (`blk.N.ffn_{gate,up,down}_exps.weight`, [in, out, experts]): a token reads
// expert_used_count of their expert_count slices.
bool is_expert_tensor(const std::string& name) { return name.find("_exps.") != std::string::npos; }

ModelInfo gather(const GgufFile& f) {
    ModelInfo m;
    m.file = &f;
    m.vocab_only = is_vocab_only(f);
    if (!m.vocab_only) m.hparams = read_hparams(f);
    m.tokenizer = read_tokenizer_summary(f);
    for (const GgufTensorInfo& t : f.tensors()) {
        DTypeTotal& d = m.by_dtype[std::string(dtype_name(t.type))];
        d.tensors++;
        d.elements += t.n_elements;
        d.bytes += t.n_bytes;
        m.parameters += t.n_elements;
        const bool experts = m.hparams && m.hparams->n_expert > 0 && is_expert_tensor(t.name);
        m.active_parameters += experts ? t.n_elements / m.hparams->n_expert * m.hparams->n_expert_used : t.n_elements;
    }
    return m;
}

std::string shape_string(const std::vector<uint64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

std::string tokenizer_kind(const std::string& model) {
    if (model == "llama") return "SentencePiece";
    if (model == "gpt2") return "byte-level BPE";
    if (model == "bert") return "WordPiece";
    if (model == "t5") return "Unigram";
    if (model == "rwkv") return "RWKV";
    return "unknown";
}

// ---- text ----

void print_text(const ModelInfo& m, bool list_tensors, std::ostream& out) {
    const GgufFile& f = *m.file;
    auto row = [&](const std::string& label, const std::string& value) {
        std::string l = "  " + label;
        if (l.size() < 20) l.resize(20, ' ');
        out << l << value << "\n";
    };
    out << f.name() << "\n";
    row("format", "GGUF v" + std::to_string(f.version()) + ", " + with_commas(f.file_size()) + " bytes, alignment " +
                      std::to_string(f.alignment()) + ", data at byte " + with_commas(f.data_offset()));
    if (m.vocab_only) row("kind", "vocabulary only (no weights)");

    if (m.hparams) {
        const ModelHparams& h = *m.hparams;
        out << "architecture " << h.arch << "\n";
        row("context", with_commas(h.context_length));
        row("embedding", std::to_string(h.n_embd));
        row("layers", std::to_string(h.n_layer));
        std::string heads = std::to_string(h.n_head) + " (KV heads " + std::to_string(h.n_head_kv);
        if (h.n_head_kv != h.n_head) heads += ", GQA " + std::to_string(h.n_head / h.n_head_kv) + ":1";
        row("heads", heads + ")");
        row("head dim", h.head_dim == h.head_dim_v ? std::to_string(h.head_dim)
                                                   : "k " + std::to_string(h.head_dim) + ", v " + std::to_string(h.head_dim_v));
        if (h.n_expert > 0) {
            std::string experts = std::to_string(h.n_expert) + " (" + std::to_string(h.n_expert_used) +
                                  " per token), feed-forward " + std::to_string(h.n_ff_exp);
            if (h.n_ff_shexp > 0) experts += ", shared expert " + std::to_string(h.n_ff_shexp);
            row("experts", experts);
        } else {
            row("feed-forward", std::to_string(h.n_ff));
        }
        std::string rope = "dims " + std::to_string(h.rope_dims) + ", base " + format_number(h.rope_freq_base) +
                           ", scaling " + h.rope_scaling;
        if (h.rope_scaling != "none") {
            rope += " (factor " + format_number(1.0f / h.rope_freq_scale) + ", original context " +
                    std::to_string(h.rope_orig_context) + ")";
        }
        row("rope", rope);
        row("norm epsilon", format_number(h.norm_eps) + (h.norm_is_rms ? " (RMSNorm)" : " (LayerNorm)"));
        row("vocab", with_commas(h.vocab_size));
        row("output", h.tied_output ? "tied to token_embd.weight" : "output.weight");
    } else if (auto arch = f.get_string("general.architecture")) {
        out << "architecture " << *arch << "\n";
    }

    if (m.tokenizer) {
        const TokenizerSummary& t = *m.tokenizer;
        out << "tokenizer " << (t.model.empty() ? "(no model key)" : t.model) << " (" << tokenizer_kind(t.model) << ")\n";
        if (!t.pre.empty()) row("pre-tokenizer", t.pre);
        std::string tokens = with_commas(t.n_tokens) + " tokens";
        if (t.has_scores) tokens += ", scores";
        if (t.has_token_types) tokens += ", token types";
        if (t.n_merges) tokens += ", " + with_commas(t.n_merges) + " merges";
        row("vocabulary", tokens);
        std::string special;
        for (const SpecialToken& s : t.special) {
            if (!special.empty()) special += ", ";
            special += s.role + " " + std::to_string(s.id) + " " + GgufValue(s.text).describe();
        }
        if (!special.empty()) row("special", special);
        auto flag = [](const std::optional<bool>& b) { return b ? (*b ? "true" : "false") : "unset"; };
        row("add bos/eos", std::string(flag(t.add_bos)) + " / " + flag(t.add_eos));
        row("chat template", t.has_chat_template ? "yes" : "no");
    }

    out << "parameters " << with_commas(m.parameters) << " (" << human_count(m.parameters) << ")";
    if (m.active_parameters != m.parameters) {
        out << ", " << with_commas(m.active_parameters) << " (" << human_count(m.active_parameters) << ") active per token";
    }
    out << "\n";
    out << "tensors " << f.tensors().size() << "\n";
    for (const auto& [name, d] : m.by_dtype) {
        row(name, std::to_string(d.tensors) + " tensors, " + with_commas(d.elements) + " elements, " +
                      with_commas(d.bytes) + " bytes");
    }

    out << "metadata " << f.metadata().size() << " keys\n";
    for (const GgufKeyValue& kv : f.metadata()) {
        std::string type(gguf_type_name(kv.value.type()));
        if (const GgufArray* a = kv.value.array()) type = std::string(gguf_type_name(a->elem())) + "[" + std::to_string(a->size()) + "]";
        out << "  " << kv.key << " (" << type << ") = " << kv.value.describe() << "\n";
    }

    if (list_tensors) {
        out << "tensor table\n";
        out << "  " << pad_right("name", 32) << pad_right("dtype", 8) << pad_right("shape", 22) << pad_right("bytes", 14)
            << "offset\n";
        for (const GgufTensorInfo& t : f.tensors()) {
            out << "  " << pad_right(t.name, 32) << pad_right(std::string(dtype_name(t.type)), 8)
                << pad_right(shape_string(t.dims), 22) << pad_right(with_commas(t.n_bytes), 14)
                << with_commas(f.data_offset() + t.offset) << "\n";
        }
    }
}

// ---- JSON ----

nlohmann::json value_json(const GgufValue& v, size_t max_items) {
    switch (v.type()) {
        case GgufType::STRING: return *v.string();
        case GgufType::BOOL: return std::get<bool>(v);
        case GgufType::F32: return std::get<float>(v);
        case GgufType::F64: return std::get<double>(v);
        case GgufType::U64: return std::get<uint64_t>(v);
        case GgufType::ARRAY: {
            const GgufArray& a = *v.array();
            nlohmann::json items = nlohmann::json::array();
            for (size_t i = 0; i < a.size() && i < max_items; ++i) items.push_back(value_json(a[i], max_items));
            if (a.size() <= max_items) return items;
            // Long arrays (vocabularies) are abbreviated to their first items and length.
            return {{"type", "array"}, {"element_type", gguf_type_name(a.elem())}, {"length", a.size()}, {"head", items}};
        }
        default: return *v.to_int();
    }
}

nlohmann::json to_json(const ModelInfo& m, bool list_tensors) {
    const GgufFile& f = *m.file;
    nlohmann::json j;
    j["file"] = f.name();
    j["gguf_version"] = f.version();
    j["file_size"] = f.file_size();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    j["vocab_only"] = m.vocab_only;
    if (m.hparams) {
        const ModelHparams& h = *m.hparams;
        j["architecture"] = h.arch;
        j["hparams"] = {
            {"context_length", h.context_length}, {"embedding_length", h.n_embd}, {"block_count", h.n_layer},
            {"head_count", h.n_head}, {"head_count_kv", h.n_head_kv}, {"head_dim", h.head_dim},
            {"head_dim_v", h.head_dim_v}, {"feed_forward_length", h.n_ff}, {"rope_dimension_count", h.rope_dims},
            {"rope_freq_base", h.rope_freq_base}, {"rope_scaling", h.rope_scaling},
            {"rope_freq_scale", h.rope_freq_scale}, {"rope_original_context", h.rope_orig_context},
            {"norm_epsilon", h.norm_eps}, {"norm", h.norm_is_rms ? "rms" : "layer"}, {"vocab_size", h.vocab_size},
            {"tied_output", h.tied_output},
        };
        if (h.n_expert > 0) {
            j["hparams"]["expert_count"] = h.n_expert;
            j["hparams"]["expert_used_count"] = h.n_expert_used;
            j["hparams"]["expert_feed_forward_length"] = h.n_ff_exp;
            j["hparams"]["expert_shared_feed_forward_length"] = h.n_ff_shexp;
        }
    } else if (auto arch = f.get_string("general.architecture")) {
        j["architecture"] = *arch;
    }
    if (m.tokenizer) {
        const TokenizerSummary& t = *m.tokenizer;
        nlohmann::json special = nlohmann::json::object();
        for (const SpecialToken& s : t.special) special[s.role] = {{"id", s.id}, {"text", s.text}};
        j["tokenizer"] = {{"model", t.model}, {"kind", tokenizer_kind(t.model)}, {"pre", t.pre},
                          {"tokens", t.n_tokens}, {"merges", t.n_merges}, {"scores", t.has_scores},
                          {"token_types", t.has_token_types}, {"special", special},
                          {"add_bos", t.add_bos ? nlohmann::json(*t.add_bos) : nlohmann::json()},
                          {"add_eos", t.add_eos ? nlohmann::json(*t.add_eos) : nlohmann::json()},
                          {"chat_template", t.has_chat_template}};
    }
    j["parameters"] = m.parameters;
    j["active_parameters"] = m.active_parameters;
    j["tensor_count"] = f.tensors().size();
    nlohmann::json by_dtype = nlohmann::json::object();
    for (const auto& [name, d] : m.by_dtype) {
        by_dtype[name] = {{"tensors", d.tensors}, {"elements", d.elements}, {"bytes", d.bytes}};
    }
    j["dtypes"] = by_dtype;
    nlohmann::json meta = nlohmann::json::object();
    for (const GgufKeyValue& kv : f.metadata()) meta[kv.key] = value_json(kv.value, 16);
    j["metadata"] = meta;
    if (list_tensors) {
        nlohmann::json tensors = nlohmann::json::array();
        for (const GgufTensorInfo& t : f.tensors()) {
            tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.type)}, {"shape", t.dims},
                               {"bytes", t.n_bytes}, {"offset", f.data_offset() + t.offset}});
        }
        j["tensors"] = tensors;
    }
    return j;
}

}  // namespace

int info_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    Args args("info", kFlags, argv);
    if (args.has("--help")) {
        out << "usage: kiln info MODEL.gguf [--json] [--tensors] [--graph]\n" << describe_flags(kFlags);
        return 0;
    }
    std::optional<std::string> path = args.get("--model");
    if (!path && !args.positionals().empty()) path = args.positionals()[0];
    if (!path || args.positionals().size() > (args.has("--model") ? 0u : 1u)) {
        err << "usage: kiln info MODEL.gguf [--json] [--tensors]\n";
        return 1;
    }
    if (args.has("--graph")) {
        Model model = Model::load(*path);
        GraphShape shape;
        shape.n_tokens = static_cast<int>(args.get_int("--graph-tokens", 1, 1 << 16).value_or(1));
        shape.n_ctx = static_cast<int>(args.get_int("--ctx-size", 1, 1 << 20)
                                           .value_or(std::min<uint32_t>(model.hparams().context_length, 4096)));
        const ModelGraph mg = build_model_graph(model, shape);
        // Placement as `run` would do it with the same backend flags.
        const auto backend = make_backend(args, "info", err);
        GraphPlacement placement;
        const NodeBackends where = node_backends(*backend, mg.graph);
        placement.backend_of_node = where.of_node;
        for (const Backend* b : where.backends) placement.names.emplace_back(b->name());
        placement.fused = backend->fused_runs(mg.graph);
        print_graph(mg.graph, placement, out);

        SessionOptions so;
        so.n_ctx = shape.n_ctx;
        so.n_batch = static_cast<int>(args.get_int("--batch-size", 1, 1 << 16).value_or(so.n_batch));
        so.kv_type = args.has("--kv-f32") ? DType::F32 : DType::F16;
        const int n_sessions = static_cast<int>(args.get_int("--parallel", 1, 256).value_or(1));
        print_memory_budget(plan_memory_budget(model, *backend, so, n_sessions), out);
        return 0;
    }
    GgufFile f = GgufFile::open(*path);
    ModelInfo m = gather(f);
    if (args.has("--json")) {
        // Token texts are checked UTF-8 at load, so dump() cannot throw on them.
        out << to_json(m, args.has("--tensors")).dump(2) << "\n";
    } else {
        print_text(m, args.has("--tensors"), out);
    }
    return 0;
}

}  // namespace kiln
