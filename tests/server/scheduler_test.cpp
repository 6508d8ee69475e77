// The scheduler's prompt chunking: a long prompt is evaluated a chunk per step while other
// requests keep generating, and what it generates equals the same request alone.
#include <gtest/gtest.h>

#include <algorithm>

#include "apps/server/scheduler.h"
#include "server/test_server.h"

namespace kiln::testing {
namespace {

using server::Finish;
using server::GenerationParams;
using server::Job;

struct Engine {
    Model model = Model::load(server_model_path());
    Tokenizer tokenizer = Tokenizer::from_gguf(model.file());
    CpuBackend backend{CpuOptions{2, detect_batch_invariant_cpu_isa()}};
    BatchSession batch;
    server::Metrics metrics;
    server::Scheduler scheduler;
    explicit Engine(int n_batch) : batch(model, backend, options(n_batch)), scheduler(batch, tokenizer, metrics) {}
    static BatchOptions options(int n_batch) {
        BatchOptions o;
        o.n_slots = 2;
        o.n_ctx = 512;
        o.n_batch = n_batch;
        return o;
    }
};

GenerationParams greedy(int max_tokens) {
    GenerationParams p;
    p.sampling.temperature = 0;
    p.max_tokens = max_tokens;
    return p;
}

std::vector<int32_t> long_prompt() {
    std::vector<int32_t> p;
    for (int i = 0; i < 240; ++i) p.push_back(static_cast<int32_t>(7 + (i * 37) % 400));
    return p;
}

// Everything a job produces: its text and how it ended.
std::string drain(Job& job) {
    std::string text;
    for (;;) {
        const Job::Update u = job.take(std::chrono::milliseconds(50));
        text += u.text();
        if (u.finish != Finish::Running) return text + "|" + server::finish_reason_text(u.finish);
    }
}

TEST(Scheduler, LongPromptsAreEvaluatedBetweenOtherRequestsSteps) {
    Engine e(16);  // 240 prompt tokens: 15 chunks, one per step
    auto a = e.scheduler.submit({5, 6, 7, 8}, greedy(10));
    // Once A generates, B's long prompt arrives.
    std::string a_text;
    while (a_text.empty()) a_text += a->take(std::chrono::milliseconds(50)).text();
    auto b = e.scheduler.submit(long_prompt(), greedy(1));
    const std::string b_out = drain(*b);
    // A needed at most 9 more steps; B's prompt alone took 15, so A finished first. Had B's
    // prompt been evaluated in one step, A would still be running.
    const Job::Update a_now = a->take(std::chrono::milliseconds(0));
    EXPECT_EQ(a_now.finish, Finish::Length) << "B finished while A was still generating";
    EXPECT_EQ(a->completion_tokens(), 10);
    EXPECT_EQ(e.metrics.prompt_tokens.load(), 4u + 240u);

    // B's answer is the same as B alone.
    Engine alone(16);
    auto b_alone = alone.scheduler.submit(long_prompt(), greedy(1));
    EXPECT_EQ(drain(*b_alone), b_out);
}

TEST(Scheduler, PromptsChunkedTogetherAnswerAsAlone) {
    // Two long prompts and a short one at once: chunks queue behind each other, answers do not
    // change.
    std::vector<int32_t> other = long_prompt();
    std::reverse(other.begin(), other.end());
    const std::vector<std::vector<int32_t>> prompts = {long_prompt(), other, {9, 10, 11}};
    Engine together(16);
    std::vector<std::shared_ptr<Job>> jobs;
    for (const auto& p : prompts) jobs.push_back(together.scheduler.submit(p, greedy(6)));
    for (size_t i = 0; i < prompts.size(); ++i) {
        const std::string out = drain(*jobs[i]);
        Engine alone(16);
        EXPECT_EQ(drain(*alone.scheduler.submit(prompts[i], greedy(6))), out) << "prompt " << i;
    }
}

}  // namespace
}  // namespace kiln::testing
