// GGUF bytes as `kiln info` and `Model::load` read a file: the header parsed in memory, every
// typed lookup tried on every key, the hyperparameters and tokenizer facts read, the vocabulary
// and tokenizer built, the chat template parsed, each tensor's data span taken; and, when the
// hyperparameters are valid, the file written to a temp file and loaded as a Model (every
// weight's presence and shape checked against them; no weights run). A one-line kiln::Error is
// the expected way out of bad input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "models/gguf/gguf_reader.h"
#include "models/hparams.h"
#include "models/model.h"
#include "models/session/conversation.h"
#include "models/tokenizer/tokenizer.h"

namespace {

template <typename F>
bool attempt(F&& f) {
    return kiln::fuzz::attempt(f);
}

// Model::load reads a path; larger inputs get the in-memory checks only.
constexpr size_t kMaxModelFileBytes = 1 << 16;

void touch_metadata(const kiln::GgufFile& f) {
    for (const kiln::GgufKeyValue& kv : f.metadata()) {
        const std::string& k = kv.key;
        (void)kv.value.describe();
        attempt([&] { (void)f.get_string(k); });
        attempt([&] { (void)f.get_uint(k); });
        attempt([&] { (void)f.get_int(k); });
        attempt([&] { (void)f.get_float(k); });
        attempt([&] { (void)f.get_bool(k); });
        attempt([&] { (void)f.get_array(k, kiln::GgufType::STRING); });
    }
    for (const kiln::GgufTensorInfo& t : f.tensors()) {
        // The reader validated every range; a span of another size or a missing name is a bug.
        if (f.tensor_data(t).size() != t.n_bytes || f.find_tensor(t.name) == nullptr) __builtin_trap();
    }
}

void load_as_model(std::span<const uint8_t> bytes) {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("kiln-fuzz-gguf-" + std::to_string(::getpid()) + ".gguf");
    FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) return;
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
    std::fclose(out);
    if (written) attempt([&] { (void)kiln::Model::load(path); });
    std::remove(path.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);
    std::optional<kiln::GgufFile> file;
    if (!attempt([&] { file.emplace(kiln::GgufFile::parse(bytes, "fuzz.gguf")); })) return 0;
    const kiln::GgufFile& f = *file;
    touch_metadata(f);
    const bool hparams_ok = !kiln::is_vocab_only(f) && attempt([&] { (void)kiln::read_hparams(f); });
    attempt([&] { (void)kiln::read_tokenizer_summary(f); });
    attempt([&] { (void)kiln::Conversation::default_options(kiln::Tokenizer::from_gguf(f)); });
    attempt([&] { (void)kiln::Conversation::model_template(f); });
    if (hparams_ok && size <= kMaxModelFileBytes) load_as_model(bytes);
    return 0;
}
