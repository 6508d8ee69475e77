// Models kiln writes itself (`kiln synth`), one per weight dtype, run end to end on the CPU
// backend and on the reference backend: the two agree for every dtype.
#include <gtest/gtest.h>

#include <filesystem>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference_backend.h"
#include "golden_test_support.h"
#include "models/model.h"
#include "models/session/session.h"
#include "models/synthetic.h"

namespace kiln {
namespace {

using namespace kiln::testing;

class SyntheticModels : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::temp_directory_path() / ("kiln-synth-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    static std::filesystem::path write(DType t) {
        SynthOptions o;
        o.shape = *synth_shape("tiny");
        o.dtype = t;
        o.seed = 5;
        const auto path = dir_ / (std::string(dtype_name(t)) + ".gguf");
        write_synthetic_llama(path, o);
        return path;
    }

    static std::vector<float> logits(const Model& m, Backend& b, const std::vector<int32_t>& prompt) {
        SessionOptions o;
        o.n_ctx = 64;
        o.logits_all = true;
        Session s(m, b, o);
        s.decode(prompt);
        std::vector<float> all;
        for (size_t i = 0; i < prompt.size(); ++i) {
            auto row = s.logits_of(static_cast<int>(i));
            all.insert(all.end(), row.begin(), row.end());
        }
        return all;
    }

    static inline std::filesystem::path dir_;
};

TEST_F(SyntheticModels, EveryWeightDtypeMatchesTheReference) {
    const std::vector<int32_t> prompt = {1, 300, 301, 302, 420, 7, 288, 299, 500, 2, 3};
    CpuBackend cpu(CpuOptions{2, std::nullopt});
    ReferenceBackend ref;
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q5_0, DType::Q5_1, DType::Q4_0, DType::Q4_1,
                    DType::IQ4_NL, DType::Q6_K, DType::Q5_K, DType::Q4_K, DType::Q3_K, DType::Q2_K}) {
        Model m = Model::load(write(t));
        const double e = nmse(logits(m, cpu, prompt), logits(m, ref, prompt));
        std::printf("%-7s CPU vs reference NMSE %.3g\n", std::string(dtype_name(t)).c_str(), e);
        // Float weights differ only by rounding (f16 attention over the f16 cache); quantized
        // ones also by the CPU's 8-bit activations, which the reference does not quantize.
        const bool quantized = info(t).quantized;
        EXPECT_LT(e, quantized ? 2e-3 : 1e-5) << dtype_name(t);
    }
}

}  // namespace
}  // namespace kiln
