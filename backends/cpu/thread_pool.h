#pragma once
// Persistent worker threads. A graph runs as one parallel region: every thread walks the
// nodes in order, does its share of each, and meets the others at a barrier after each node.
// Waiting spins briefly, then yields, so a decode step (hundreds of short nodes) does not pay
// for a futex wake-up per node.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class Barrier {
public:
    explicit Barrier(int n) : n_(n) {}
    void reset(int n) { n_ = n; }
    void wait();

private:
    int n_;
    std::atomic<int> arrived_{0};
    std::atomic<uint32_t> phase_{0};
};

class ThreadPool {
public:
    // `n_threads` including the calling thread (>= 1).
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }
    // Runs fn(ctx, ith) on every thread (the caller is thread 0) and returns when all are done.
    void run(void (*fn)(void* ctx, int ith), void* ctx);

private:
    void worker(int ith);

    int n_threads_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    uint64_t generation_ = 0;
    bool stop_ = false;
    void (*fn_)(void*, int) = nullptr;
    void* ctx_ = nullptr;
    std::atomic<int> running_{0};
};

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_core_count();

}  // namespace kiln
