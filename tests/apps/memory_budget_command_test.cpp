// The memory budget as a user meets it: `kiln info --graph` prints it, and `kiln run` and
// `kiln serve` refuse a context or slot count the machine cannot hold, in one line, before
// allocating it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "apps/run_kiln_support.h"
#include "tests/support/temp_model.h"
#ifdef KILN_HAVE_VULKAN
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

using Result = testing::KilnResult;
const auto run = testing::run_kiln_capture;

const testing::TempModel& wide_kv_model() {
    static const testing::TempModel m("wide-kv-cmd", testing::wide_kv_shape(), DType::F16, 1);
    return m;
}

void expect_one_line_refusal(const Result& r, const std::vector<std::string>& facts) {
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_EQ(r.err.rfind("kiln: " + wide_kv_model().path().string() + ": needs ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    for (const std::string& fact : facts) EXPECT_NE(r.err.find(fact), std::string::npos) << fact << " in " << r.err;
}

TEST(MemoryBudgetCommand, RunRefusesAContextTheMachineCannotHold) {
    const std::string model = wide_kv_model().path().string();
    expect_one_line_refusal(run({"run", "-m", model, "-p", "hi", "-c", "1048576", "--backend", "cpu"}),
                            {"on cpu for a session of 1048576 tokens (KV cache 256.00 GiB)", "; try -c "});
    expect_one_line_refusal(run({"run", "-m", model, "-p", "hi", "-c", "1048576", "--kv-f32", "--backend", "cpu"}),
                            {"(KV cache 512.00 GiB)", "no --kv-f32"});
    // What the message suggests runs.
    Result ok = run({"run", "-m", model, "-p", "hi", "-n", "2", "-c", "64", "--backend", "cpu"});
    EXPECT_EQ(ok.status, 0) << ok.err;
}

TEST(MemoryBudgetCommand, ServeRefusesSlotsTheMachineCannotHold) {
    const std::string model = wide_kv_model().path().string();
    expect_one_line_refusal(run({"serve", "-m", model, "-c", "65536", "--parallel", "64", "--port", "0"}),
                            {"for 64 sessions of 65536 tokens (KV cache 1024.00 GiB)", "fewer --parallel slots"});
}

// A header-only model (kiln synth --header-only: tensor data as holes, 30 GiB that cost no
// disk), made once per process.
class HeaderOnlyModel {
public:
    HeaderOnlyModel()
        : path_(std::filesystem::temp_directory_path() / ("kiln-header-only-" + std::to_string(::getpid()) + ".gguf")) {
        synth_ = run({"synth", path_.string(), "--like", "llama3-8b", "--header-only"});
    }
    ~HeaderOnlyModel() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    // Empty when this file system cannot hold sparse files (the test then skips).
    std::string path() const { return synth_.status == 0 ? path_.string() : ""; }
    const Result& synth() const { return synth_; }

private:
    std::filesystem::path path_;
    Result synth_;
};

const HeaderOnlyModel& header_only_model() {
    static const HeaderOnlyModel m;
    return m;
}

#define REQUIRE_HEADER_ONLY_MODEL(path)                                                                  \
    const std::string path = header_only_model().path();                                                \
    if (path.empty()) {                                                                                  \
        ASSERT_NE(header_only_model().synth().err.find("cannot extend"), std::string::npos)              \
            << header_only_model().synth().err;                                                          \
        GTEST_SKIP() << "this file system has no sparse files: " << header_only_model().synth().err;    \
    }

// Refused before a byte of its weights is read, naming them.
TEST(MemoryBudgetCommand, HeaderOnlyModelIsRefusedBeforeReadingWeights) {
    REQUIRE_HEADER_ONLY_MODEL(path);
    EXPECT_GT(std::filesystem::file_size(path), 29ull << 30);
    // 128 KiB of f16 cache per token: a million tokens are 128 GiB beside the 30 GiB of weights.
    Result r = run({"run", "-m", path, "-p", "hi", "-c", "1048576", "--backend", "cpu"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("for a session of 1048576 tokens (KV cache 128.00 GiB, weights 29.92 GiB"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("a smaller quantization of the model (kiln quantize)"), std::string::npos) << r.err;
}

#ifdef KILN_HAVE_VULKAN
// Under --backend auto, a device whose own memory cannot hold the model leaves it to the CPU,
// before anything is allocated (lavapipe's heap is 2 GiB; --device 0 picks it under auto). The
// CPU cannot hold a million-token context either, so its refusal ends the command after the notice.
TEST(MemoryBudgetCommand, AutoFallsBackToTheCpuWhenTheDeviceCannotHoldTheModel) {
    KILN_REQUIRE_VULKAN();
    REQUIRE_HEADER_ONLY_MODEL(path);
    for (const char* command : {"run", "serve"}) {
        // A million tokens of context: the CPU's refusal is certain on any machine we run on.
        std::vector<std::string> argv = {command, "-m", path, "-c", "1048576", "--backend", "auto", "--device", "0"};
        if (std::string(command) == "run") argv.insert(argv.end(), {"-p", "hi", "-n", "1"});
        if (std::string(command) == "serve") argv.insert(argv.end(), {"--port", "0"});
        Result r = run(argv);
        EXPECT_NE(r.err.find("kiln " + std::string(command) + ": the Vulkan device cannot hold the model (" + path +
                             ": needs "),
                  std::string::npos) << r.err;
        EXPECT_NE(r.err.find("); running on the CPU\n"), std::string::npos) << r.err;
        EXPECT_EQ(r.status, 1);
        EXPECT_NE(r.err.find("on cpu for a"), std::string::npos) << r.err;
    }
    // Named explicitly, the device's refusal is the answer.
    Result named = run({"run", "-m", path, "-p", "hi", "-c", "64", "--backend", "vulkan"});
    EXPECT_EQ(named.status, 1);
    EXPECT_EQ(named.err.find("running on the CPU"), std::string::npos) << named.err;
    EXPECT_NE(named.err.find("on vulkan for a session of 64 tokens (weights "), std::string::npos) << named.err;
    EXPECT_NE(named.err.find("fewer --gpu-layers"), std::string::npos) << named.err;
}
#endif

TEST(MemoryBudgetCommand, InfoGraphPrintsTheBudget) {
    const std::string model = wide_kv_model().path().string();
    Result fits = run({"info", model, "--graph", "-c", "64", "--backend", "cpu"});
    ASSERT_EQ(fits.status, 0) << fits.err;
    EXPECT_NE(fits.out.find("memory budget: a session of 64 tokens, batch 64, f16 KV cache (262,144 bytes per token per "
                            "session)"), std::string::npos) << fits.out;
    EXPECT_NE(fits.out.find("  cpu       weights "), std::string::npos) << fits.out;
    EXPECT_NE(fits.out.find("KV cache 16.00 MiB"), std::string::npos) << fits.out;
    EXPECT_NE(fits.out.find("\n  fits\n"), std::string::npos) << fits.out;

    Result too_big = run({"info", model, "--graph", "-c", "1048576", "--parallel", "2", "--backend", "cpu"});
    ASSERT_EQ(too_big.status, 0) << too_big.err;
    EXPECT_NE(too_big.out.find("  does not fit: " + model + ": needs "), std::string::npos) << too_big.out;
    EXPECT_NE(too_big.out.find("for 2 sessions of 1048576 tokens (KV cache 512.00 GiB)"), std::string::npos);
}

}  // namespace
}  // namespace kiln
