#include "apps/server/metrics.h"

#include <sstream>

namespace kiln::server {

double Metrics::tokens_per_second() const {
    const uint64_t micros = busy_micros.load();
    return micros == 0 ? 0.0 : static_cast<double>(generated_tokens.load()) * 1e6 / static_cast<double>(micros);
}

std::string Metrics::prometheus() const {
    std::ostringstream o;
    auto metric = [&](const char* name, const char* type, const char* help, auto value) {
        o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
    };
    metric("kiln_requests_total", "counter", "completion requests accepted", requests.load());
    metric("kiln_requests_failed_total", "counter", "requests answered with an error", requests_failed.load());
    metric("kiln_requests_cancelled_total", "counter", "requests whose client left before the end",
           requests_cancelled.load());
    metric("kiln_prompt_tokens_total", "counter", "prompt tokens evaluated", prompt_tokens.load());
    metric("kiln_prompt_tokens_reused_total", "counter", "prompt tokens reused from a slot's cache",
           prompt_tokens_reused.load());
    metric("kiln_generated_tokens_total", "counter", "tokens generated", generated_tokens.load());
    metric("kiln_decode_steps_total", "counter", "batched decode steps", decode_steps.load());
    metric("kiln_busy_seconds_total", "counter", "engine time with at least one active slot",
           static_cast<double>(busy_micros.load()) / 1e6);
    metric("kiln_tokens_per_second", "gauge", "generated tokens per second of busy time", tokens_per_second());
    metric("kiln_queue_length", "gauge", "requests waiting for a slot", queue_length.load());
    metric("kiln_slots_busy", "gauge", "slots generating", slots_busy.load());
    metric("kiln_slots_total", "gauge", "slots (--parallel)", slots_total);
    return o.str();
}

}  // namespace kiln::server
