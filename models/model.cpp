#include "models/model.h"

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/arch/architectures.h"

namespace kiln {

Model Model::load(const std::filesystem::path& path, WeightMemory memory) {
    Model m;
    m.file_ = std::make_unique<GgufFile>(GgufFile::open(path, memory));
    if (is_vocab_only(*m.file_)) throw Error(path.string() + ": has a vocabulary but no weights");
    m.hparams_ = read_hparams(*m.file_);
    if (!architecture_supported(m.hparams_.arch)) {
        throw Error(path.string() + ": key 'general.architecture': " + kiln::quoted(m.hparams_.arch) +
                    " is not supported (supported: " + supported_architectures() + ")");
    }
    // Build one graph now so every weight's presence and shape is checked at load.
    check_architecture_weights(m);
    return m;
}

const GgufTensorInfo* Model::find(const std::string& name) const {
    if (const GgufTensorInfo* t = file_->find_tensor(name)) return t;
    // Naming variants seen in GGUF files: ".weight" omitted on older conversions.
    const std::string suffix = ".weight";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return file_->find_tensor(name.substr(0, name.size() - suffix.size()));
    }
    return nullptr;
}

void Model::check_shape(const GgufTensorInfo& t, const std::vector<int64_t>& shape) const {
    std::vector<uint64_t> want(shape.begin(), shape.end());
    std::vector<uint64_t> have = t.dims;
    while (want.size() > 1 && want.back() == 1) want.pop_back();
    while (have.size() > 1 && have.back() == 1) have.pop_back();
    if (want != have) {
        auto text = [](const std::vector<uint64_t>& d) {
            std::string s = "[";
            for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
            return s + "]";
        };
        throw Error(file_->name() + ": tensor '" + t.name + "' has shape " + text(have) + ", expected " + text(want) +
                    " from the hyperparameters");
    }
}

const GgufTensorInfo& Model::require(const std::string& name, std::vector<int64_t> shape) const {
    const GgufTensorInfo* t = find(name);
    if (!t) throw Error(file_->name() + ": tensor '" + name + "' is missing");
    check_shape(*t, shape);
    return *t;
}

const GgufTensorInfo* Model::optional(const std::string& name, std::vector<int64_t> shape) const {
    const GgufTensorInfo* t = find(name);
    if (t) check_shape(*t, shape);
    return t;
}

TensorId Model::weight(Graph& g, const GgufTensorInfo& t) const {
    Shape ne{1, 1, 1, 1};
    for (size_t d = 0; d < t.dims.size(); ++d) ne[d] = static_cast<int64_t>(t.dims[d]);
    return g.weight(t.name, t.type, ne, file_->tensor_data(t).data());
}

}  // namespace kiln
