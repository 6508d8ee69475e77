#include "backends/cpu/thread_pool.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace kiln {

void Barrier::wait() {
    if (n_ == 1) return;
    const uint32_t phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
        arrived_.store(0, std::memory_order_relaxed);
        phase_.fetch_add(1, std::memory_order_release);
        return;
    }
    for (int spin = 0; phase_.load(std::memory_order_acquire) == phase; ++spin) {
        if (spin > 2000) std::this_thread::yield();
    }
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int i = 1; i < n_threads_; ++i) threads_.emplace_back(&ThreadPool::worker, this, i);
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::run(void (*fn)(void*, int), void* ctx) {
    if (n_threads_ == 1) {
        fn(ctx, 0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        fn_ = fn;
        ctx_ = ctx;
        running_.store(n_threads_ - 1, std::memory_order_release);
        ++generation_;
    }
    wake_.notify_all();
    fn(ctx, 0);
    for (int spin = 0; running_.load(std::memory_order_acquire) != 0; ++spin) {
        if (spin > 2000) std::this_thread::yield();
    }
}

void ThreadPool::worker(int ith) {
    uint64_t seen = 0;
    for (;;) {
        void (*fn)(void*, int);
        void* ctx;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            fn = fn_;
            ctx = ctx_;
        }
        fn(ctx, ith);
        running_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

int physical_core_count() {
    std::set<std::pair<std::string, std::string>> cores;
    const unsigned logical = std::thread::hardware_concurrency();
    for (unsigned cpu = 0; cpu < logical; ++cpu) {
        const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
        std::string p, c;
        if (pkg >> p && core >> c) cores.emplace(p, c);
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
    return logical > 0 ? static_cast<int>(logical) : 1;
}

}  // namespace kiln
