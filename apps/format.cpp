#include "apps/format.h"

#include "models/session/generate.h"

#include <charconv>
#include <cstdio>

namespace kiln {

std::string with_commas(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string human_count(uint64_t n) {
    static const char* const units[] = {"", " K", " M", " B", " T"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f%s" : "%.0f%s", v, units[u]);
    return buf;
}

int TenthsProgress::update(uint64_t done, uint64_t total) {
    total = total ? total : 1;
    if (done * 10 < next_tenth_ * total) return -1;
    while (done * 10 >= next_tenth_ * total) ++next_tenth_;
    return static_cast<int>(done * 100 / total);
}

std::string format_number(float v) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string pad_right(std::string s, size_t width) {
    if (s.size() + 1 < width) s.resize(width, ' ');
    else s += ' ';
    return s;
}

}  // namespace kiln

namespace kiln {

std::string format_timings(const GenerateStats& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "prompt %d tokens, %.2f tokens/s | generation %d tokens, %.2f tokens/s | stop: %s",
                  s.prompt_tokens, s.prompt_tokens_per_second(), s.generated, s.generate_tokens_per_second(),
                  std::string(stop_reason_text(s.stop)).c_str());
    return buf;
}

}  // namespace kiln
