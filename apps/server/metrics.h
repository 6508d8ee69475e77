#pragma once
// Counters and gauges of a running server, read by GET /metrics as Prometheus text. Written by
// the HTTP threads (requests) and the engine thread (tokens, slots, queue); all atomics.
#include <atomic>
#include <cstdint>
#include <string>

namespace kiln::server {

struct Metrics {
    std::atomic<uint64_t> requests{0};         // completion requests accepted for generation
    std::atomic<uint64_t> requests_failed{0};  // answered with an error status (any route)
    std::atomic<uint64_t> requests_cancelled{0};  // client gone before the end
    std::atomic<uint64_t> prompt_tokens{0};
    std::atomic<uint64_t> prompt_tokens_reused{0};  // prompt tokens a slot's cache already held
    std::atomic<uint64_t> generated_tokens{0};
    std::atomic<uint64_t> decode_steps{0};     // batched decode runs
    std::atomic<uint64_t> busy_micros{0};      // engine time with at least one active slot
    std::atomic<int> queue_length{0};
    std::atomic<int> slots_busy{0};
    int slots_total = 0;

    // Generated tokens per second of engine busy time (0 before the first token).
    double tokens_per_second() const;
    std::string prometheus() const;
};

}  // namespace kiln::server
