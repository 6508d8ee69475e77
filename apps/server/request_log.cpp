#include "apps/server/request_log.h"

#include <algorithm>
#include <cmath>

namespace kiln::server {
namespace {

std::string printable(const std::string& s) {
    constexpr size_t kMax = 200;
    std::string out = s.substr(0, kMax);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) c = '?';
    }
    if (s.size() > kMax) out += "...";
    return out;
}

}  // namespace

std::string request_log_line(const RequestLogEntry& e) {
    std::string line = "kiln serve: " + printable(e.method) + " " + printable(e.path) + " " + std::to_string(e.status);
    if (e.prompt_tokens >= 0) {
        line += " " + std::to_string(e.prompt_tokens) + "+" + std::to_string(std::max(e.completion_tokens, 0)) + " tokens";
    }
    line += " " + std::to_string(static_cast<long long>(std::llround(e.ms))) + " ms\n";
    return line;
}

void RequestLog::write(const RequestLogEntry& e) {
    if (!out_) return;
    const std::string line = request_log_line(e);
    std::lock_guard<std::mutex> lock(mutex_);
    *out_ << line << std::flush;
}

}  // namespace kiln::server
