#pragma once
// kiln serve's line per request on stderr:
//   kiln serve: POST /v1/chat/completions 200 18+32 tokens 412 ms
// Tokens (prompt+generated) only for requests that generated; what a client chose (method,
// path) is cut to 200 bytes with control and non-ASCII bytes as '?', so a request cannot
// forge or break log lines.
#include <mutex>
#include <ostream>
#include <string>

namespace kiln::server {

struct RequestLogEntry {
    std::string method, path;
    int status = 0;
    int prompt_tokens = -1;      // -1: the request generated nothing
    int completion_tokens = -1;
    double ms = 0;
};

std::string request_log_line(const RequestLogEntry& e);  // with its newline

// Writes whole lines from any thread.
class RequestLog {
public:
    explicit RequestLog(std::ostream* out) : out_(out) {}
    void write(const RequestLogEntry& e);

private:
    std::ostream* out_;  // null: nothing is written
    std::mutex mutex_;
};

}  // namespace kiln::server
