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
        : path_(std::filesystem::temp_directory_path() / ("kiln-" + tag + "-" + std::to_string(::getpid()) + ".gguf")) {
        SynthOptions o;
        o.shape = *synth_shape(shape);
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

}  // namespace kiln::testing
