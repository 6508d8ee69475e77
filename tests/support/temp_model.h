#pragma once
// A synthetic model (kiln's GGUF writer) in the temp directory for one test process, removed
// when the object is destroyed. Hold it in a function-local static to write it once per process.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "models/synth/synthetic.h"

namespace kiln::testing {

class TempModel {
public:
    // `tag` names the file (kiln-TAG-PID.gguf) so concurrent test processes do not collide.
    TempModel(const std::string& tag, const std::string& shape, DType dtype, uint64_t seed)
        : TempModel(tag, *synth_shape(shape), dtype, seed) {}
    // A shape of the test's own (a named one with fields changed).
    TempModel(const std::string& tag, const SynthShape& shape, DType dtype, uint64_t seed)
        : path_(std::filesystem::temp_directory_path() / ("kiln-" + tag + "-" + std::to_string(::getpid()) + ".gguf")) {
        SynthOptions o;
        o.shape = shape;
        o.dtype = dtype;
        o.seed = seed;
        write_synthetic_model(path_, o);
    }
    ~TempModel() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    TempModel(const TempModel&) = delete;
    TempModel& operator=(const TempModel&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A small file with a huge attention: 8 layers of 8 heads of 1024 in f16, so each token of
// context costs 256 KiB of KV cache and a million-token context (-c 1048576) 256 GiB.
inline SynthShape wide_kv_shape() {
    SynthShape s = *synth_shape("tiny");
    s.name = "wide-kv";
    s.n_embd = 32;
    s.n_layer = 8;
    s.n_head = 8;
    s.n_head_kv = 8;
    s.head_dim = 1024;
    s.n_ff = 64;
    s.context = 1u << 20;
    return s;
}

}  // namespace kiln::testing
