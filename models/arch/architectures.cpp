#include "models/arch/architectures.h"

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/arch/builders.h"
#include "models/model.h"

namespace kiln {
namespace {

struct Architecture {
    const char* name;
    ModelGraph (*build)(const Model&, const GraphShape&);
};

// GGUF `general.architecture` values and their builders. Mistral and TinyLlama GGUFs say "llama".
const Architecture kArchitectures[] = {
    {"llama", build_llama},
    {"qwen2", build_qwen2},
    {"qwen3", build_qwen3},
    {"qwen2moe", build_qwen2moe},
    {"qwen3moe", build_qwen3},  // experts from the hyperparameters
    {"smollm3", build_smollm3},
};

const Architecture* find(const std::string& arch) {
    for (const Architecture& a : kArchitectures) {
        if (arch == a.name) return &a;
    }
    return nullptr;
}

}  // namespace

bool architecture_supported(const std::string& arch) { return find(arch) != nullptr; }

std::string supported_architectures() {
    std::string s;
    for (const Architecture& a : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(a.name);
    return s;
}

ModelGraph build_model_graph(const Model& m, const GraphShape& shape) {
    const Architecture* a = find(m.hparams().arch);
    if (!a) throw Error("architecture " + kiln::quoted(m.hparams().arch) + " is not supported");
    return a->build(m, shape);
}

void check_architecture_weights(const Model& m) {
    GraphShape shape;
    shape.n_tokens = 1;
    shape.n_ctx = 1;
    build_model_graph(m, shape);
}

}  // namespace kiln
