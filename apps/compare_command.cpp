// `kiln compare -m MODEL -p TEXT [--backends cpu,vulkan] [--json] [--profile ...]`: the prompt's
// graph run on two backends, every node's output compared; exit code 1 when a node disagrees past
// its threshold. The profile flags time both runs: a table per backend, one trace for both.
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/backend_compare.h"
#include "apps/backend_flags.h"
#include "apps/commands.h"
#include "apps/profile_flags.h"
#include "graph/error.h"
#include "models/arch/architectures.h"
#include "models/model.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {
namespace {

std::vector<std::string> split_names(const std::string& list) {
    std::vector<std::string> names;
    std::stringstream in(list);
    for (std::string name; std::getline(in, name, ',');) names.push_back(name);
    return names;
}

template <typename T>
GraphInput input_of(TensorId t, const std::vector<T>& values) {
    GraphInput in{t, std::vector<uint8_t>(values.size() * sizeof(T))};
    std::memcpy(in.bytes.data(), values.data(), in.bytes.size());
    return in;
}

std::string sci(double v) {
    std::ostringstream s;
    s << std::scientific << std::setprecision(2) << v;
    return s.str();
}

}  // namespace

int compare_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    std::vector<FlagSpec> flags = backend_flags();
    flags.erase(flags.begin());  // --backend: this command takes --backends
    flags.insert(flags.end(), {
        {"--model", "-m", true, "GGUF model file"},
        {"--prompt", "-p", true, "text whose prompt graph is compared"},
        {"--backends", "", true, "two backends, comma-separated (default cpu,vulkan)"},
        {"--json", "", false, "one JSON object instead of the table"},
        {"--all", "", false, "list every node, not only the first 10 and the failures"},
        {"--help", "-h", false, "show this help"},
    });
    const auto profiling = profile_flags();
    flags.insert(flags.end(), profiling.begin(), profiling.end());
    Args args("compare", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln compare -m MODEL.gguf -p TEXT [--backends cpu,vulkan] [--json] [--profile]\n"
            << describe_flags(flags);
        return 0;
    }
    const auto path = args.get("--model");
    const auto prompt = args.get("--prompt");
    if (!path || !prompt) throw Error("kiln compare: needs -m MODEL.gguf and -p TEXT");
    const auto names = split_names(args.get("--backends").value_or("cpu,vulkan"));
    if (names.size() != 2) throw Error("kiln compare: --backends takes two names, e.g. cpu,vulkan");
    ProfileRun profile(args);

    const Model model = Model::load(*path);
    const Tokenizer tok = Tokenizer::from_gguf(model.file());
    const std::vector<int32_t> ids = tok.encode(*prompt, true, false);
    if (ids.empty()) throw Error("kiln compare: the prompt has no tokens");
    GraphShape shape;
    shape.n_tokens = static_cast<int>(ids.size());
    shape.n_ctx = static_cast<int>(ids.size());
    shape.logits_all = true;
    ModelGraph mg = build_model_graph(model, shape);
    std::vector<int32_t> positions(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) positions[i] = static_cast<int32_t>(i);
    const std::vector<GraphInput> inputs = {input_of(mg.tokens, ids), input_of(mg.positions, positions),
                                            input_of(mg.output_rows, positions)};

    auto a = make_backend_named(names[0], args, "compare", err);
    auto b = make_backend_named(names[1], args, "compare", err);
    const auto diffs = compare_backends(mg.graph, inputs, *a, *b, {profile.sink(), shape.n_tokens});
    profile.finish(err, {"profile of " + std::string(a->name()) + ":", "profile of " + std::string(b->name()) + ":"});

    const NodeDiff* first = nullptr;
    size_t failures = 0;
    for (const NodeDiff& d : diffs) {
        if (!d.failed()) continue;
        ++failures;
        if (!first) first = &d;
    }
    if (args.has("--json")) {
        nlohmann::json j;
        j["model"] = *path;
        j["tokens"] = ids.size();
        j["backends"] = {a->name(), b->name()};
        j["nodes"] = nlohmann::json::array();
        for (const NodeDiff& d : diffs) {
            nlohmann::json n = {{"index", d.index}, {"name", d.name}, {"op", d.op}, {"shape", d.shape},
                                {"compared", d.compared}};
            if (d.compared) {
                n["nmse"] = d.nmse;
                n["max_abs_diff"] = d.max_abs;
                n["threshold"] = d.threshold;
                n["nan_mismatch"] = d.nan_mismatch;
                n["failed"] = d.failed();
            }
            j["nodes"].push_back(n);
        }
        j["failures"] = failures;
        j["first_failure"] = first ? nlohmann::json(first->index) : nlohmann::json(nullptr);
        out << j.dump(1) << "\n";
        return failures ? 1 : 0;
    }

    out << "compare " << a->name() << " vs " << b->name() << ": " << *path << ", " << ids.size() << " tokens, "
        << diffs.size() << " nodes\n";
    out << std::left << std::setw(6) << "node" << std::setw(22) << "name" << std::setw(11) << "op" << std::setw(18)
        << "shape" << std::setw(11) << "nmse" << std::setw(11) << "max|diff|" << std::setw(11) << "threshold"
        << "\n";
    const bool all = args.has("--all");
    for (const NodeDiff& d : diffs) {
        if (!all && d.index >= 10 && !d.failed() && d.index + 1 != diffs.size()) continue;
        out << std::left << std::setw(6) << d.index << std::setw(22) << d.name << std::setw(11) << d.op << std::setw(18)
            << d.shape;
        if (d.compared) {
            out << std::setw(11) << sci(d.nmse) << std::setw(11) << sci(d.max_abs) << std::setw(11) << sci(d.threshold)
                << (d.nan_mismatch ? "NaN/Inf differ " : "") << (d.failed() ? "FAIL" : "");
        } else {
            out << "(strided view, not compared)";
        }
        out << "\n";
    }
    if (!all && diffs.size() > 11) out << "(" << diffs.size() - 11 << " more nodes within threshold; --all lists them)\n";
    if (first) {
        out << failures << " nodes past their threshold; first: node " << first->index << " " << first->name << " ("
            << first->op << ")\n";
        return 1;
    }
    out << "all nodes within their thresholds\n";
    return 0;
}

}  // namespace kiln
