#include "apps/server/server_options.h"

#include <cstdlib>

namespace kiln::server {

std::vector<FlagSpec> server_flags() {
    return {
        {"--host", "", true, "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"},
        {"--port", "", true, "TCP port (default 8080; 0: any free port, printed at start)"},
        {"--parallel", "-np", true, "requests decoded together, each in its own KV cache slot (default 1)"},
        {"--api-key", "", true, "require 'Authorization: Bearer KEY' on /v1/ routes (default: $KILN_API_KEY)"},
        {"--max-body", "", true, "largest request body in bytes (default 1048576)"},
        {"--header-timeout", "", true, "seconds a request's line and headers may take to arrive (default 5)"},
        {"--request-timeout", "", true, "seconds a whole request, body included, may take to arrive (default 30)"},
        {"--no-cache-prompt", "", false, "evaluate every prompt whole, never reusing a slot's cached prefix"},
    };
}

ServerOptions server_options(const Args& args) {
    ServerOptions o;
    if (auto h = args.get("--host")) o.host = *h;
    o.port = static_cast<int>(args.get_int("--port", 0, 65535).value_or(o.port));
    o.parallel = static_cast<int>(args.get_int("--parallel", 1, 256).value_or(o.parallel));
    if (auto k = args.get("--api-key")) {
        o.api_key = *k;
    } else if (const char* env = std::getenv("KILN_API_KEY")) {
        o.api_key = env;  // keeps the key out of `ps`
    }
    o.max_body_bytes = static_cast<size_t>(args.get_int("--max-body", 1024, 1LL << 30).value_or(static_cast<long long>(o.max_body_bytes)));
    if (auto s = args.get_int("--header-timeout", 1, 3600)) o.header_timeout = std::chrono::seconds(*s);
    if (auto s = args.get_int("--request-timeout", 1, 3600)) o.request_timeout = std::chrono::seconds(*s);
    o.cache_prompt = !args.has("--no-cache-prompt");
    return o;
}

}  // namespace kiln::server
