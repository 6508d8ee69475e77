#pragma once
// `kiln serve` flags beyond the model's: where to listen, how many slots, the API key, limits.
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "apps/args.h"

namespace kiln::server {

struct ServerOptions {
    std::string host = "127.0.0.1";  // loopback unless asked otherwise
    int port = 8080;                 // 0: any free port
    int parallel = 1;                // slots decoded together
    std::string api_key;             // empty: no key required
    size_t max_body_bytes = 1 << 20;  // larger request bodies get 413
    int http_threads = 0;            // 0: enough for every slot plus a few waiting clients
    // A request's line and headers must arrive within header_timeout of its first byte, and
    // the whole request, body included, within request_timeout; slower clients get 408 or a
    // closed connection, so they cannot hold HTTP threads.
    std::chrono::milliseconds header_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};
    // One line per request answered (method, path, status, tokens, ms); null: none. kiln serve
    // gives stderr.
    std::ostream* request_log = nullptr;
    // A request may reuse a free slot's cached prompt prefix (Scheduler's reuse_prompts).
    bool cache_prompt = true;
};

// --host, --port, --parallel, --api-key, --max-body, --header-timeout, --request-timeout,
// --no-cache-prompt
std::vector<FlagSpec> server_flags();
// Throws kiln::Error naming the flag for a bad value.
ServerOptions server_options(const Args& args);

}  // namespace kiln::server
