// `kiln serve` when the Vulkan device fails (fault injection: backends/vulkan/fault_injection.h),
// in-process on a free port over stories260K on Vulkan (lavapipe) under the validation layer:
// a request whose graph does not fit in device memory gets 500 in OpenAI's error shape while the
// others are answered as before; once the device is lost, the request that hit it and every
// later one get 503 (device_lost), /health answers 503 and /v1/models 200, and the server shuts
// down cleanly. Here rather than in tests/server because it needs the Vulkan backend, which
// test_apps links.
#include <gtest/gtest.h>

#include <httplib.h>

#include <future>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "apps/server/http_server.h"
#include "apps/server/metrics.h"
#include "apps/server/scheduler.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/placed_backend.h"
#include "backends/vulkan/fault_injection.h"
#include "backends/vulkan/vulkan_backend.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "models/tokenizer/tokenizer.h"
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

#ifdef KILN_HAVE_VULKAN
using json = nlohmann::json;
using vk::testing::Fault;
using vk::testing::FaultPoint;

// The server of `kiln serve --backend vulkan`, in this process, with a validation log.
class VulkanServer {
public:
    explicit VulkanServer(const std::filesystem::path& model_path, testing::ValidationLog& log) {
        model_ = std::make_unique<Model>(Model::load(model_path));
        tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(model_->file()));
        vk::VulkanOptions vo;
        vo.validation = true;
        vo.validation_sink = log.sink();
        backend_ = std::make_unique<PlacedBackend>(std::make_unique<vk::VulkanBackend>(vo),
                                                   std::make_unique<CpuBackend>(CpuOptions{2, std::nullopt}));
        BatchOptions bo;
        bo.n_slots = 2;
        bo.n_ctx = 128;
        bo.n_batch = 64;
        batch_ = std::make_unique<BatchSession>(*model_, *backend_, bo);
        // No prompt reuse: each request evaluates its whole prompt, so the graphs (and the
        // allocations a fault is injected into) are the same whichever slot it lands in.
        scheduler_ = std::make_unique<server::Scheduler>(*batch_, *tokenizer_, metrics_, /*reuse_prompts=*/false);
        server::ServedModel served;
        served.name = "stories";
        served.tokenizer = tokenizer_.get();
        server::ServerOptions so;
        so.port = 0;
        so.parallel = bo.n_slots;
        http_ = std::make_unique<server::HttpServer>(served, *scheduler_, metrics_, so);
        port_ = http_->bind();
        listener_ = std::thread([this] { http_->listen(); });
        for (int i = 0; i < 200 && !get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~VulkanServer() {
        http_->stop();
        listener_.join();
        scheduler_->stop();
    }

    httplib::Result get(const char* path) const { return client().Get(path); }
    httplib::Result complete(const std::string& prompt, int max_tokens, bool stream = false) const {
        const json body = {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"stream", stream}};
        return client().Post("/v1/completions", body.dump(), "application/json");
    }

private:
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(60, 0);
        return c;
    }

    std::unique_ptr<Model> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<BatchSession> batch_;
    server::Metrics metrics_;
    std::unique_ptr<server::Scheduler> scheduler_;
    std::unique_ptr<server::HttpServer> http_;
    std::thread listener_;
    int port_ = 0;
};

std::string text_of(const httplib::Result& r) {
    if (!r || r->status != 200) return "<failed>";
    return json::parse(r->body)["choices"][0]["text"];
}

// OpenAI's error shape: {"error": {"message", "type", "code"}}; returns the code.
std::string error_code(const httplib::Result& r, int status) {
    if (!r) return "<no response>";
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body);
    EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
    EXPECT_EQ(j["error"]["type"], "server_error") << r->body;
    return j["error"]["code"];
}

class ServeFault : public ::testing::Test {
protected:
    void TearDown() override {
        std::lock_guard lock(log_.mutex);
        EXPECT_TRUE(log_.errors.empty()) << log_.errors.size() << " validation messages, first: " << log_.errors[0];
    }
    testing::ValidationLog log_;
    vk::testing::FaultScope faults_;
};

// A prompt long enough for a graph size no earlier request compiled (its arena is allocated
// then): 40 tokens and more, where the short prompts use the 4- and 8-token graphs.
const char* kLongPrompt =
    "Once upon a time there was a little girl named Lily who loved to play outside in the park with her big red ball "
    "and her little brown dog";

TEST_F(ServeFault, OutOfDeviceMemoryFailsOnlyThatRequest) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    KILN_REQUIRE_VULKAN();
    VulkanServer server(model, log_);
    const std::string alone = text_of(server.complete("Once upon a time", 48));
    ASSERT_NE(alone, "<failed>");

    // One request generates while another's prompt needs a new graph whose arena does not fit.
    auto running = std::async(std::launch::async, [&] { return text_of(server.complete("Once upon a time", 48)); });
    vk::testing::inject_fault(Fault{FaultPoint::allocate_memory, 1, vk::MemoryPurpose::activations});
    const auto failed = server.complete(kLongPrompt, 8);
    EXPECT_TRUE(vk::testing::fault_fired());
    EXPECT_EQ(error_code(failed, 500), "out_of_device_memory");
    EXPECT_NE(failed->body.find("vulkan: out of device memory allocating "), std::string::npos) << failed->body;
    EXPECT_EQ(running.get(), alone);  // untouched by the other request's failure

    // The server goes on: healthy, and the same requests answer as before.
    const auto health = server.get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(text_of(server.complete("Once upon a time", 48)), alone);
    EXPECT_EQ(server.complete(kLongPrompt, 8)->status, 200);
}

TEST_F(ServeFault, LostDeviceAnswers503AndTheServerStaysUp) {
    KILN_REQUIRE_SHARED_FILE(model, "models/stories260K.gguf");
    KILN_REQUIRE_VULKAN();
    VulkanServer server(model, log_);
    ASSERT_NE(text_of(server.complete("Once upon a time", 8)), "<failed>");

    vk::testing::inject_fault(Fault{FaultPoint::wait_for_fences, 3, std::nullopt});  // a few steps in
    const auto start = std::chrono::steady_clock::now();
    const auto failed = server.complete("Once upon a time", 48);
    EXPECT_TRUE(vk::testing::fault_fired());
    EXPECT_EQ(error_code(failed, 503), "device_lost");
    EXPECT_NE(failed->body.find("vulkan: device lost (VK_ERROR_DEVICE_LOST from vkWaitForFences)"), std::string::npos)
        << failed->body;

    // Every later generation request is refused at once, streamed or not.
    EXPECT_EQ(error_code(server.complete("Once upon a time", 8), 503), "device_lost");
    EXPECT_EQ(error_code(server.complete("Once upon a time", 8, /*stream=*/true), 503), "device_lost");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));

    // /health says why, in OpenAI's error shape; /v1/models and /metrics still answer.
    const auto health = server.get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 503);
    const json h = json::parse(health->body);
    EXPECT_EQ(h["status"], "unavailable");
    EXPECT_EQ(h["error"]["code"], "device_lost");
    const auto models = server.get("/v1/models");
    ASSERT_TRUE(models);
    EXPECT_EQ(models->status, 200);
    const auto metrics = server.get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    // The destructor stops the server and tears the lost device down; TearDown checks the
    // validation layer saw nothing wrong.
}
#endif

}  // namespace
}  // namespace kiln
