#include "apps/server/scheduler.h"

#include <algorithm>
#include <span>
#include <utility>

#include "backends/vulkan/device_error.h"
#include "graph/error.h"
#include "models/session/batch_session.h"
#include "models/session/logprobs.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln::server {

const char* finish_reason_text(Finish f) {
    switch (f) {
        case Finish::Running: return "running";
        case Finish::Stop: return "stop";
        case Finish::Length: return "length";
        case Finish::Cancelled: return "cancelled";
        case Finish::Error: return "error";
    }
    return "?";
}

Job::Job(std::vector<int32_t> prompt, GenerationParams params, int32_t vocab_size)
    : prompt_(std::move(prompt)), params_(std::move(params)), sampler_(params_.sampling, vocab_size) {}

Job::Update Job::take(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
        return !pending_.empty() || !pending_logprobs_.empty() || finish_ != Finish::Running;
    });
    Update u;
    u.pieces = std::exchange(pending_, {});
    u.logprobs = std::exchange(pending_logprobs_, {});
    u.finish = finish_;
    return u;
}

std::string Job::Update::text() const {
    std::string t;
    for (const std::string& p : pieces) t += p;
    return t;
}

int Job::completion_tokens() const {
    std::lock_guard lock(mu_);
    return completion_tokens_;
}

std::string Job::error() const {
    std::lock_guard lock(mu_);
    return error_;
}

Failure Job::failure() const {
    std::lock_guard lock(mu_);
    return failure_;
}

void Job::append(const std::string& text) {
    if (text.empty()) return;
    {
        std::lock_guard lock(mu_);
        pending_.push_back(text);
    }
    cv_.notify_all();
}

void Job::append_logprob(GeneratedLogprob lp) {
    {
        std::lock_guard lock(mu_);
        pending_logprobs_.push_back(std::move(lp));
    }
    cv_.notify_all();
}

void Job::finish(Finish f, std::string error, Failure failure) {
    {
        std::lock_guard lock(mu_);
        if (finish_ != Finish::Running) return;
        finish_ = f;
        error_ = std::move(error);
        failure_ = f == Finish::Error && failure == Failure::None ? Failure::Generation : failure;
    }
    cv_.notify_all();
}

namespace {

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

Scheduler::Scheduler(BatchSession& session, const Tokenizer& tokenizer, Metrics& metrics, bool reuse_prompts)
    : session_(session), tokenizer_(tokenizer), reuse_prompts_(reuse_prompts), metrics_(metrics),
      slots_(static_cast<size_t>(session.n_slots())) {
    prefill_order_.reserve(slots_.size());
    metrics_.slots_total = session.n_slots();
    session_.prepare();  // compile the batched graph before the first request waits for it
    thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { stop(); }

int Scheduler::n_ctx() const { return session_.n_ctx(); }
int Scheduler::n_slots() const { return session_.n_slots(); }

std::shared_ptr<Job> Scheduler::submit(std::vector<int32_t> prompt, const GenerationParams& params) {
    if (prompt.empty()) throw Error("the prompt has no tokens");
    if (prompt.size() > static_cast<size_t>(n_ctx())) {
        throw Error("the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds " +
                    std::to_string(n_ctx()));
    }
    // The sampler validates the parameters and allocates here, on the caller's thread.
    std::shared_ptr<Job> job(new Job(std::move(prompt), params, session_.n_vocab()));
    {
        std::lock_guard lock(mu_);
        if (stopping_) throw Error("the server is shutting down");
        if (lost_) throw Error(*lost_);
        queue_.push_back(job);
        metrics_.queue_length.store(static_cast<int>(queue_.size()));
    }
    cv_.notify_all();
    return job;
}

void Scheduler::run_on_engine(std::function<void()> work) {
    std::packaged_task<void()> task(std::move(work));
    std::future<void> done = task.get_future();
    {
        std::lock_guard lock(mu_);
        if (stopping_) throw Error("the server is shutting down");
        if (lost_) throw Error(*lost_);
        tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
    try {
        done.get();
    } catch (const std::future_error&) {  // dropped unrun: the engine stopped
        throw Error("the server is shutting down");
    }
}

std::optional<std::string> Scheduler::unavailable() const {
    std::lock_guard lock(mu_);
    return lost_;
}

void Scheduler::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Scheduler::admit(std::vector<std::shared_ptr<Job>>& admitted) {
    // Called with mu_ held: jobs whose client left while queued are dropped, the rest take free
    // slots in arrival order.
    for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->cancelled()) {
            (*it)->finish(Finish::Cancelled);
            metrics_.requests_cancelled.fetch_add(1);
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    size_t free_slots = 0;
    for (const Slot& s : slots_) free_slots += s.job ? 0 : 1;
    while (free_slots > admitted.size() && !queue_.empty()) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    metrics_.queue_length.store(static_cast<int>(queue_.size()));
}

void Scheduler::start(int slot, std::shared_ptr<Job> job) {
    Slot& s = slots_[static_cast<size_t>(slot)];
    s.job = std::move(job);
    s.generated = 0;
    s.prefilled = 0;
    s.order = ++admissions_;  // from 1: 0 is a slot never used
    DecodeOptions decode;
    decode.strip_leading_space = false;  // a continuation keeps its spaces
    s.stream.emplace(tokenizer_, decode);
    s.stop.emplace(s.job->params_.stop);
    metrics_.slots_busy.fetch_add(1);
    if (const auto& grammar = s.job->params_.grammar) {
        if (!grammar_vocab_) grammar_vocab_ = std::make_shared<const GrammarVocab>(tokenizer_);
        s.grammar.emplace(grammar, grammar_vocab_);
    }
    const std::vector<int32_t>& prompt = s.job->prompt_;
    size_t common = 0;
    if (reuse_prompts_ && s.job->params_.cache_prompt && s.cached.size() == static_cast<size_t>(session_.n_past(slot))) {
        common = common_prefix(s.cached, prompt);
        common = std::min(common, prompt.size() - 1);  // the last prompt token is evaluated for its logits
    }
    session_.truncate(slot, static_cast<int>(common));
    s.cached.resize(common);
    s.prefilled = common;
    metrics_.prompt_tokens_reused.fetch_add(common);
    for (int32_t t : prompt) s.job->sampler_.accept(t);
}

int Scheduler::pick_slot(const Job& job) const {
    // As llama-server does: the slot sharing the longest prefix when that is at least half the
    // prompt, else the least recently used free slot, so the caches of other recent prompts
    // (a shared system prompt, other conversations) survive for their next request.
    int best = -1, oldest = -1;
    size_t best_common = 0;
    for (int slot = 0; slot < n_slots(); ++slot) {
        const Slot& s = slots_[static_cast<size_t>(slot)];
        if (s.job) continue;
        if (oldest < 0 || s.order < slots_[static_cast<size_t>(oldest)].order) oldest = slot;
        const size_t common = reuse_prompts_ && job.params_.cache_prompt ? common_prefix(s.cached, job.prompt_) : 0;
        if (best < 0 || common > best_common) {
            best = slot;
            best_common = common;
        }
    }
    if (!reuse_prompts_ || !job.params_.cache_prompt) return best;  // the first free slot: nothing to keep
    return best_common * 2 >= job.prompt_.size() ? best : oldest;
}

void Scheduler::prefill_step() {
    std::vector<int>& order = prefill_order_;
    order.clear();
    for (int slot = 0; slot < n_slots(); ++slot) {
        if (prefilling(slots_[static_cast<size_t>(slot)])) order.push_back(slot);
    }
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return slots_[static_cast<size_t>(a)].order < slots_[static_cast<size_t>(b)].order; });
    // Chunks start at multiples of n_batch in every prompt, as a whole-prompt prefill splits it,
    // so a request's results do not depend on what else is running.
    const size_t chunk = static_cast<size_t>(session_.n_batch());
    size_t budget = chunk;
    bool any = false;
    for (int slot : order) {
        Slot& s = slots_[static_cast<size_t>(slot)];
        if (!s.job) continue;  // failed with the others when the device was lost
        if (s.job->cancelled()) {
            release(slot, Finish::Cancelled);
            continue;
        }
        const std::vector<int32_t>& prompt = s.job->prompt_;
        const size_t n = std::min(chunk, prompt.size() - s.prefilled);
        if (any && n > budget) break;
        const std::span<const int32_t> part = std::span<const int32_t>(prompt).subspan(s.prefilled, n);
        try {
            session_.prefill(slot, part);
        } catch (const std::exception& e) {
            fail(slot, e);
            continue;
        }
        s.cached.insert(s.cached.end(), part.begin(), part.end());
        s.prefilled += n;
        metrics_.prompt_tokens.fetch_add(n);
        budget -= std::min(budget, n);
        any = true;
    }
}

void Scheduler::release(int slot, Finish f, const std::string& error, Failure failure) {
    Slot& s = slots_[static_cast<size_t>(slot)];
    if (!s.job) return;
    {
        std::lock_guard lock(s.job->mu_);
        s.job->completion_tokens_ = s.generated;
    }
    // Metrics first: a client that has its answer sees the slot free.
    if (f == Finish::Cancelled) metrics_.requests_cancelled.fetch_add(1);
    metrics_.slots_busy.fetch_sub(1);
    if (f == Finish::Error) {  // what the cache holds is not known after a failed step
        session_.clear(slot);
        s.cached.clear();
    }
    std::shared_ptr<Job> job = std::move(s.job);
    s.stream.reset();
    s.stop.reset();
    s.grammar.reset();
    job->finish(f, error, failure);
}

void Scheduler::fail(int slot, const std::exception& e) {
    const auto* device = dynamic_cast<const vk::DeviceError*>(&e);
    if (device && device->fault() == vk::DeviceFault::lost) {
        lose(e.what());
        return;
    }
    // Out of device memory for this request's graph: the model and the other slots' caches are
    // untouched (a failed compile allocates nothing that stays), so the others go on.
    release(slot, Finish::Error, e.what(), device ? Failure::OutOfDeviceMemory : Failure::Generation);
}

void Scheduler::lose(const std::string& why) {
    // The weights and every slot's KV cache were on the device: nothing can continue.
    for (int slot = 0; slot < n_slots(); ++slot) release(slot, Finish::Error, why, Failure::DeviceLost);
    std::lock_guard lock(mu_);
    if (!lost_) lost_ = why;
    for (auto& job : queue_) job->finish(Finish::Error, why, Failure::DeviceLost);
    queue_.clear();
    metrics_.queue_length.store(0);
}

std::optional<int32_t> Scheduler::advance(int slot) {
    Slot& s = slots_[static_cast<size_t>(slot)];
    Job& job = *s.job;
    const int32_t id = job.sampler_.sample(session_.logits(slot), s.grammar ? &*s.grammar : nullptr);
    if (id == Sampler::kNoToken) {  // no token can continue the grammar: end with what there is
        job.append(s.stop->push(s.stream->finish()) + s.stop->flush());
        release(slot, Finish::Stop);
        return std::nullopt;
    }
    if (s.grammar) s.grammar->accept(id);
    if (job.params_.logprobs >= 0 && !tokenizer_.vocab().is_eog(id)) {
        // Of the raw logits (the model's distribution), as OpenAI reports them.
        const TokenLogprobs lp = token_logprobs(session_.logits(slot), id, job.params_.logprobs);
        auto text = [&](const TokenLogprob& t) {
            return TokenText{tokenizer_.token_to_piece(t.id, /*render_special=*/true), t.logprob};
        };
        GeneratedLogprob g{text(lp.chosen), {}};
        for (const TokenLogprob& t : lp.top) g.top.push_back(text(t));
        job.append_logprob(std::move(g));
    }
    job.sampler_.accept(id);
    ++s.generated;
    metrics_.generated_tokens.fetch_add(1);
    if (tokenizer_.vocab().is_eog(id) || (s.grammar && s.grammar->must_end())) {
        if (!tokenizer_.vocab().is_eog(id)) job.append(s.stop->push(s.stream->push(id)));
        job.append(s.stop->push(s.stream->finish()) + s.stop->flush());
        release(slot, Finish::Stop);
        return std::nullopt;
    }
    job.append(s.stop->push(s.stream->push(id)));
    if (s.stop->stopped()) {
        release(slot, Finish::Stop);
        return std::nullopt;
    }
    const bool limit = job.params_.max_tokens >= 0 && s.generated >= job.params_.max_tokens;
    if (limit || session_.n_past(slot) >= session_.n_ctx()) {
        job.append(s.stop->push(s.stream->finish()) + s.stop->flush());
        release(slot, s.stop->stopped() ? Finish::Stop : Finish::Length);
        return std::nullopt;
    }
    return id;
}

void Scheduler::run() {
    using Clock = std::chrono::steady_clock;
    std::vector<std::shared_ptr<Job>> admitted;
    std::vector<SlotToken> batch;
    batch.reserve(slots_.size());
    std::deque<std::packaged_task<void()>> tasks;
    for (;;) {
        admitted.clear();
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] {
                return stopping_ || !queue_.empty() || !tasks_.empty() ||
                       std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.job != nullptr; });
            });
            if (stopping_) break;
            admit(admitted);
            tasks.swap(tasks_);
        }
        const auto t0 = Clock::now();
        for (auto& task : tasks) task();  // exceptions reach run_on_engine's caller
        tasks.clear();
        for (auto& job : admitted) {
            if (const auto why = unavailable()) {  // lost while admitting earlier ones
                job->finish(Finish::Error, *why, Failure::DeviceLost);
                continue;
            }
            const int slot = pick_slot(*job);
            try {
                start(slot, std::move(job));
            } catch (const std::exception& e) {
                fail(slot, e);
            }
        }
        prefill_step();
        batch.clear();
        for (int slot = 0; slot < n_slots(); ++slot) {
            Slot& s = slots_[static_cast<size_t>(slot)];
            if (!s.job || prefilling(s)) continue;
            if (s.job->cancelled()) {
                release(slot, Finish::Cancelled);
                continue;
            }
            if (auto token = advance(slot)) batch.push_back({slot, *token});
        }
        if (!batch.empty()) {
            try {
                session_.decode(batch);
                metrics_.decode_steps.fetch_add(1);
                for (const SlotToken& t : batch) slots_[static_cast<size_t>(t.slot)].cached.push_back(t.token);
            } catch (const std::exception& e) {
                for (const SlotToken& t : batch) fail(t.slot, e);
            }
        }
        metrics_.busy_micros.fetch_add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    }
    // Shutting down: nobody will run what is left.
    for (int slot = 0; slot < n_slots(); ++slot) {
        release(slot, Finish::Error, "the server is shutting down", Failure::ShuttingDown);
    }
    std::lock_guard lock(mu_);
    for (auto& job : queue_) job->finish(Finish::Error, "the server is shutting down", Failure::ShuttingDown);
    queue_.clear();
    tasks_.clear();  // their callers' futures see a broken promise
    metrics_.queue_length.store(0);
}

}  // namespace kiln::server
