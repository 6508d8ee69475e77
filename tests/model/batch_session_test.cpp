// BatchSession, the engine under continuous batching: several slots decoded in one graph give
// each slot what it would get alone, on the CPU and on Vulkan (lavapipe in CI).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>

#include "backends/cpu/cpu_backend.h"
#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#include "vulkan/vulkan_test_support.h"
#endif
#include "golden_test_support.h"
#include "graph/error.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

using namespace kiln::testing;

const std::filesystem::path& model_path() {
    // biases, GQA, tied head, BPE vocabulary
    static const TempModel file("batch", "qwen2-tiny", DType::Q8_0, 11);
    return file.path();
}

// A mixture of experts: the tokens of one step are routed each to its own experts.
const std::filesystem::path& moe_model_path() {
    static const TempModel file("batch-moe", "qwen3moe-tiny", DType::Q8_0, 11);
    return file.path();
}

struct Request {
    std::vector<int32_t> prompt;
    int start_step;  // the batch step at which the request arrives
    std::vector<int32_t> out;
};

// Greedy generation of `n` tokens for each request through one BatchSession; requests join
// between steps as continuous batching does.
void generate(BatchSession& b, std::vector<Request>& reqs, int n) {
    std::vector<int> slot_of(reqs.size(), -1);
    int next_slot = 0;
    for (int step = 0;; ++step) {
        std::vector<SlotToken> batch;
        bool pending = false;
        for (size_t r = 0; r < reqs.size(); ++r) {
            Request& q = reqs[r];
            if (step < q.start_step) {
                pending = true;
                continue;
            }
            if (slot_of[r] < 0) {
                slot_of[r] = next_slot++;
                b.clear(slot_of[r]);
                q.out.push_back(argmax(b.prefill(slot_of[r], q.prompt)));
            } else if (static_cast<int>(q.out.size()) < n) {
                q.out.push_back(argmax(b.logits(slot_of[r])));
            }
            if (static_cast<int>(q.out.size()) < n) batch.push_back({slot_of[r], q.out.back()});
        }
        if (batch.empty() && !pending) return;
        if (!batch.empty()) b.decode(batch);
    }
}

void expect_same_alone_and_together(Backend& backend, const std::filesystem::path& path = model_path()) {
    const Model m = Model::load(path);
    BatchOptions o;
    o.n_slots = 4;
    o.n_ctx = 64;
    const std::vector<std::vector<int32_t>> prompts = {{5, 70, 300, 12}, {900, 4, 4}, {1, 2, 3, 4, 5, 6, 7}, {42}};
    std::vector<std::vector<int32_t>> alone;
    for (const auto& p : prompts) {
        BatchSession b(m, backend, o);
        std::vector<Request> one = {{p, 0, {}}};
        generate(b, one, 12);
        alone.push_back(one[0].out);
    }
    BatchSession b(m, backend, o);
    std::vector<Request> together;
    for (size_t i = 0; i < prompts.size(); ++i) together.push_back({prompts[i], static_cast<int>(i) * 3, {}});
    generate(b, together, 12);
    for (size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ(together[i].out, alone[i]) << "request " << i << " on " << backend.name();
        EXPECT_GT(std::set<int32_t>(alone[i].begin(), alone[i].end()).size(), 2u) << "a degenerate run proves little";
        EXPECT_EQ(b.n_past(static_cast<int>(i)), static_cast<int>(prompts[i].size()) + 11);
    }
}

TEST(BatchSession, GreedyOutputIsTheSameAloneOrBesideOthersCpu) {
    CpuBackend cpu(CpuOptions{2, detect_batch_invariant_cpu_isa()});
    expect_same_alone_and_together(cpu);
    expect_same_alone_and_together(cpu, moe_model_path());
}

#ifdef KILN_HAVE_VULKAN
TEST(BatchSession, GreedyOutputIsTheSameAloneOrBesideOthersVulkan) {
    KILN_REQUIRE_VULKAN();
    vk::VulkanBackend vulkan{vk::VulkanOptions{}};
    expect_same_alone_and_together(vulkan);
    expect_same_alone_and_together(vulkan, moe_model_path());
}
#endif

// A batched step computes what a plain Session computes for the same tokens.
TEST(BatchSession, BatchedLogitsMatchASession) {
    const Model m = Model::load(model_path());
    CpuBackend cpu(CpuOptions{2, detect_batch_invariant_cpu_isa()});
    const std::vector<int32_t> prompt = {7, 8, 9, 10, 11};
    SessionOptions so;
    so.n_ctx = 32;
    Session s(m, cpu, so);
    s.decode(prompt);
    const int32_t next = 77;
    const auto expect = s.decode({&next, 1});
    const std::vector<float> single(expect.begin(), expect.end());

    BatchOptions bo;
    bo.n_slots = 3;
    bo.n_ctx = 32;
    BatchSession b(m, cpu, bo);
    b.prefill(2, prompt);
    b.prefill(0, {prompt.data(), 2});
    const SlotToken batch[] = {{2, next}, {0, 3}};
    b.decode(batch);
    const auto got = b.logits(2);
    EXPECT_LT(nmse(got, single), 1e-6);
    EXPECT_EQ(b.n_past(2), 6);
    EXPECT_EQ(b.n_past(0), 3);
    EXPECT_EQ(b.n_past(1), 0);
}

TEST(BatchSession, BadBatchesEvaluateNothing) {
    const Model m = Model::load(model_path());
    CpuBackend cpu(CpuOptions{2, detect_batch_invariant_cpu_isa()});
    BatchOptions bo;
    bo.n_slots = 2;
    bo.n_ctx = 4;
    BatchSession b(m, cpu, bo);
    const int32_t p[] = {1, 2, 3};
    b.prefill(0, p);
    const SlotToken twice[] = {{0, 1}, {0, 2}};
    EXPECT_THROW(b.decode(twice), Error);
    const SlotToken outside[] = {{2, 1}};
    EXPECT_THROW(b.decode(outside), Error);
    const SlotToken bad_token[] = {{1, 1}, {0, 1 << 20}};
    EXPECT_THROW(b.decode(bad_token), Error);
    EXPECT_EQ(b.n_past(0), 3);
    EXPECT_EQ(b.n_past(1), 0);
    const SlotToken fill[] = {{0, 5}};
    b.decode(fill);
    EXPECT_EQ(b.n_past(0), 4);
    try {
        b.decode(fill);
        FAIL() << "expected a full-context error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("context is full"), std::string::npos) << e.what();
    }
    EXPECT_THROW(BatchSession(m, cpu, BatchOptions{0, 4, 256, DType::F16}), Error);
}

}  // namespace
}  // namespace kiln
