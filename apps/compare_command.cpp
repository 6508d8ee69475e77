// `kiln compare -m MODEL -p TEXT [--backends cpu,vulkan] [--json] [--profile ...]`: the prompt's
// graph run on two backends, every node's output compared; exit code 1 when a node disagrees past
// its threshold. The profile flags time both runs: a table per backend, one trace for both.
#include <cstring>
#include <ostream>
#include <sstream>

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
    const Comparison c = compare_backends(mg.graph, inputs, *a, *b, {profile.sink(), shape.n_tokens});
    profile.finish(err, {"profile of " + c.a_ran_on + ":", "profile of " + c.b_ran_on + ":"});

    return print_comparison(c, {*path, ids.size(), args.has("--json"), args.has("--all")}, out);
}

}  // namespace kiln
