#pragma once
// Continuous batching over a BatchSession. One engine thread owns the session: between steps it
// admits queued requests into free slots; each step evaluates prompt chunks (through their
// slots' own graphs, oldest request first, about one chunk of n_batch tokens in all, so a long
// prompt delays the others' next token by one chunk at a time, not by its whole length), then
// samples one token for every slot whose prompt is done and runs all of them in one batched
// decode. HTTP
// threads submit a request and read its text through the Job they get back; a cancelled Job
// (client gone) frees its slot at the next step. A step that fails ends the requests it served
// with Finish::Error; a lost device ends all of them and makes the scheduler unavailable().
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/server/metrics.h"
#include "apps/server/stop_text.h"
#include "models/grammar/grammar_filter.h"
#include "models/session/sampler.h"
#include "models/tokenizer/token_stream.h"

namespace kiln {
class BatchSession;
}  // namespace kiln

namespace kiln::server {

struct GenerationParams {
    SamplerParams sampling;
    int max_tokens = -1;  // -1: until end of generation or a full context
    std::vector<std::string> stop;
    // What the text must follow (response_format, grammar); nullptr: free. The request ends
    // ("stop") when the grammar is complete or no token can continue it.
    std::shared_ptr<const Grammar> grammar;
    // Report each generated token's log-probability and this many alternatives (0-20); -1:
    // none (OpenAI's logprobs / top_logprobs).
    int logprobs = -1;
    // May reuse a free slot's cached prompt prefix (llama-server's cache_prompt); the
    // scheduler's own setting can turn reuse off for every request.
    bool cache_prompt = true;
};

// A generated token's log-probability under the model (models/session/logprobs.h), with its
// text and the most likely alternatives' (control tokens as their text).
struct TokenText {
    std::string text;  // the token's bytes (may be part of a UTF-8 character)
    float logprob = 0;
};
struct GeneratedLogprob {
    TokenText chosen;
    std::vector<TokenText> top;
};

enum class Finish { Running, Stop, Length, Cancelled, Error };
const char* finish_reason_text(Finish f);  // OpenAI's finish_reason: "stop", "length", ...

// Why a request ended with Finish::Error: what its client is told (HTTP status, error code).
enum class Failure {
    None,
    Generation,          // a step failed (500)
    OutOfDeviceMemory,   // the device could not hold this request's graph (500); others go on
    DeviceLost,          // the device is gone: this and every later request fail (503)
    ShuttingDown,        // the server stopped first (503)
};

// One request's progress, shared by the HTTP thread waiting on it and the engine thread.
class Job {
public:
    struct Update {
        std::vector<std::string> pieces;  // text since the last take(), as the tokens completed it
        std::vector<GeneratedLogprob> logprobs;  // the tokens sampled since (with params.logprobs)
        Finish finish = Finish::Running;
        std::string text() const;          // the pieces joined
    };

    // Waits up to `timeout` for new text or the end and takes what there is.
    Update take(std::chrono::milliseconds timeout);
    // Asks the engine to stop this request; its slot is freed at the next step.
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

    int prompt_tokens() const { return static_cast<int>(prompt_.size()); }
    int completion_tokens() const;  // valid once finished
    std::string error() const;       // Finish::Error: what went wrong
    Failure failure() const;         // Finish::Error: why

private:
    friend class Scheduler;
    Job(std::vector<int32_t> prompt, GenerationParams params, int32_t vocab_size);

    void append(const std::string& text);
    void append_logprob(GeneratedLogprob lp);
    void finish(Finish f, std::string error = {}, Failure failure = Failure::None);

    const std::vector<int32_t> prompt_;
    const GenerationParams params_;
    Sampler sampler_;  // engine thread only
    std::atomic<bool> cancelled_{false};

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> pending_;  // pieces not yet taken
    std::vector<GeneratedLogprob> pending_logprobs_;
    Finish finish_ = Finish::Running;
    int completion_tokens_ = 0;
    std::string error_;
    Failure failure_ = Failure::None;
};

class Scheduler {
public:
    // Starts the engine thread. `session` and `tokenizer` must outlive the scheduler.
    // `reuse_prompts`: a request may start in a free slot whose KV cache already holds a prefix
    // of its prompt, and only the rest is evaluated (kiln serve --no-cache-prompt turns it off).
    // The rest is then split into chunks from another offset, so logits can differ from a fresh
    // prefill's by float rounding, and a near tie in greedy decoding can go the other way.
    Scheduler(BatchSession& session, const Tokenizer& tokenizer, Metrics& metrics, bool reuse_prompts = true);
    ~Scheduler();  // stop()
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues a request. Throws kiln::Error for an empty prompt, one longer than a slot's
    // context, bad sampling parameters, or when unavailable() (nothing is queued then).
    std::shared_ptr<Job> submit(std::vector<int32_t> prompt, const GenerationParams& params);
    // Why the server can generate nothing more (the device holding the model was lost), or
    // nullopt while it can. Once set it stays: running and queued requests end with
    // Failure::DeviceLost, and submit() refuses new ones.
    std::optional<std::string> unavailable() const;
    // Ends the engine thread; running and queued requests finish with Finish::Error.
    void stop();
    // Runs `work` on the engine thread between two steps and waits for it, rethrowing what it
    // throws: for work that uses the backend beside the slots (embeddings), which must not run
    // while a step does. Throws kiln::Error when the scheduler stops first or is unavailable().
    void run_on_engine(std::function<void()> work);

    int n_ctx() const;
    int n_slots() const;

private:
    struct Slot {
        std::shared_ptr<Job> job;
        std::optional<TokenTextStream> stream;
        std::optional<StopText> stop;
        std::optional<GrammarFilter> grammar;
        int generated = 0;
        size_t prefilled = 0;  // prompt tokens evaluated so far
        // The tokens the slot's KV cache holds, in order: kept after a request ends so the next
        // one can reuse a common prefix.
        std::vector<int32_t> cached;
        uint64_t order = 0;    // admission order: older prompts are evaluated first; LRU for free slots
    };

    void run();
    void admit(std::vector<std::shared_ptr<Job>>& admitted);
    void start(int slot, std::shared_ptr<Job> job);
    // The free slot for `job`: the one whose cache shares the longest prefix with its prompt
    // when that is at least half of it, else the least recently used free one (with reuse);
    // the first free one without.
    int pick_slot(const Job& job) const;
    // Evaluates this step's prompt chunks.
    void prefill_step();
    bool prefilling(const Slot& s) const { return s.job && s.prefilled < s.job->prompt_.size(); }
    // Samples the slot's next token; returns it when the slot continues.
    std::optional<int32_t> advance(int slot);
    void release(int slot, Finish f, const std::string& error = {}, Failure failure = Failure::None);
    // A step of `slot` threw `e`: that request fails, or, when the device is lost, every request
    // (lose()).
    void fail(int slot, const std::exception& e);
    // The device is lost: every slot and queued request fails with `why`, and so will new ones.
    void lose(const std::string& why);

    BatchSession& session_;
    const Tokenizer& tokenizer_;
    const bool reuse_prompts_;
    std::shared_ptr<const GrammarVocab> grammar_vocab_;  // built for the first grammar request
    Metrics& metrics_;
    std::vector<Slot> slots_;  // engine thread only
    uint64_t admissions_ = 0;  // engine thread only
    std::vector<int> prefill_order_;  // engine thread only: prefill_step's slots, oldest first

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::deque<std::packaged_task<void()>> tasks_;  // run_on_engine's, run between steps
    bool stopping_ = false;
    std::optional<std::string> lost_;  // unavailable(), under mu_
    std::thread thread_;
};

}  // namespace kiln::server
