#include "models/grammar/integer_range.h"

#include <algorithm>
#include <vector>

namespace kiln {
namespace {

std::string digit_class(char lo, char hi) {
    if (lo == hi) return std::string("[") + lo + "]";
    return std::string("[") + lo + "-" + hi + "]";
}

// Digit strings of equal length n, from a to b (a <= b), each digit free of leading-zero rules
// (the caller handles those). Classic split: common first digit, or a's first digit with the
// rest from a's tail up, the digits strictly between with anything after, b's first digit with
// the rest up to b's tail.
std::string same_length(const std::string& a, const std::string& b) {
    const size_t n = a.size();
    if (n == 1) return digit_class(a[0], b[0]);
    if (a[0] == b[0]) return digit_class(a[0], a[0]) + " " + same_length(a.substr(1), b.substr(1));
    std::vector<std::string> alts;
    const std::string nines(n - 1, '9'), zeros(n - 1, '0');
    auto any_digits = [&](size_t k) { return "[0-9]{" + std::to_string(k) + "}"; };
    const bool a_tail_zero = a.substr(1) == zeros;
    const bool b_tail_nine = b.substr(1) == nines;
    const char from = a_tail_zero ? a[0] : char(a[0] + 1);
    const char to = b_tail_nine ? b[0] : char(b[0] - 1);
    if (!a_tail_zero) alts.push_back(digit_class(a[0], a[0]) + " (" + same_length(a.substr(1), nines) + ")");
    if (from <= to) alts.push_back(digit_class(from, to) + " " + any_digits(n - 1));
    if (!b_tail_nine) alts.push_back(digit_class(b[0], b[0]) + " (" + same_length(zeros, b.substr(1)) + ")");
    std::string out;
    for (const std::string& alt : alts) out += (out.empty() ? "" : " | ") + alt;
    return alts.size() == 1 ? out : "(" + out + ")";
}

uint64_t power10(size_t k) {
    uint64_t p = 1;
    while (k-- > 0) p *= 10;
    return p;
}

}  // namespace

std::string natural_range_gbnf(uint64_t lo, uint64_t hi) {
    std::vector<std::string> alts;
    // Split at each change of digit count: [lo, 9..9], [10..0, 9..9], ..., [10..0, hi].
    for (size_t len = std::to_string(lo).size(); len <= std::to_string(hi).size(); ++len) {
        const uint64_t first = std::max(lo, len == 1 ? 0 : power10(len - 1));
        const uint64_t last = std::min(hi, power10(len) - 1);
        if (first > last) continue;
        alts.push_back(same_length(std::to_string(first), std::to_string(last)));
    }
    std::string out;
    for (const std::string& alt : alts) out += (out.empty() ? "" : " | ") + alt;
    return "(" + out + ")";
}

std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi) {
    const int64_t low = std::max(lo.value_or(-kLargestGeneratedInteger), -kLargestGeneratedInteger);
    const int64_t high = std::min(hi.value_or(kLargestGeneratedInteger), kLargestGeneratedInteger);
    std::vector<std::string> alts;
    if (low < 0) {  // -1 .. low: "-" and the magnitudes max(1, -high) .. -low
        const uint64_t from = high < 0 ? uint64_t(-high) : 1;
        if (from <= uint64_t(-low)) alts.push_back("\"-\" " + natural_range_gbnf(from, uint64_t(-low)));
    }
    if (high >= 0) alts.push_back(natural_range_gbnf(uint64_t(std::max<int64_t>(low, 0)), uint64_t(high)));
    std::string out;
    for (const std::string& alt : alts) out += (out.empty() ? "" : " | ") + alt;
    return "(" + out + ")";
}

}  // namespace kiln
