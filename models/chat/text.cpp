#include "models/chat/text.h"

#include <string.h>  // memmem

#include <algorithm>

#include "models/chat/budget.h"
#include "models/utf8.h"

namespace kiln::jinja::text {

uint32_t decode(std::string_view s, size_t& i) {
    size_t n = utf8_sequence_length(s, i);
    auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
    uint32_t cp;
    switch (n) {
        case 2: cp = ((b(0) & 0x1Fu) << 6) | (b(1) & 0x3Fu); break;
        case 3: cp = ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu); break;
        case 4:
            cp = ((b(0) & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
            break;
        default: cp = b(0); n = 1; break;  // ASCII, or a stray byte standing for itself
    }
    i += n;
    return cp;
}

std::vector<size_t> code_point_offsets(std::string_view s) {
    charge_bytes(s.size() * (1 + sizeof(size_t)));  // reads s, writes a size_t per code point
    std::vector<size_t> offsets;
    offsets.reserve(s.size() + 1);
    for (size_t i = 0; i < s.size();) {
        offsets.push_back(i);
        decode(s, i);
    }
    offsets.push_back(s.size());
    return offsets;
}

size_t advance(std::string_view s, size_t i, size_t count) {
    size_t start = i;
    for (; count > 0 && i < s.size(); --count) decode(s, i);
    charge_bytes(i - start);
    return i;
}

size_t find_bytes(std::string_view s, std::string_view needle, size_t from) {
    if (from > s.size()) return std::string_view::npos;
    if (needle.empty()) return from;
    const void* at = memmem(s.data() + from, s.size() - from, needle.data(), needle.size());
    size_t pos = at ? static_cast<size_t>(static_cast<const char*>(at) - s.data()) : std::string_view::npos;
    charge_bytes((at ? pos : s.size()) - from + needle.size());  // what memmem read, give or take
    return pos;
}

namespace {

std::string reversed(std::string_view s) {
    charge_bytes(s.size());
    return std::string(s.rbegin(), s.rend());
}

// One more piece of a split, within the list limit: 16 MB of commas split into 16M parts.
void add_part(std::vector<std::string>& parts, std::string_view part) {
    reserve_list(parts.size() + 1, 1);
    parts.emplace_back(part);
}

}  // namespace

size_t length(std::string_view s) {
    charge_bytes(s.size());
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++n) decode(s, i);
    return n;
}

bool is_space(uint32_t cp) {
    // Python's str.isspace(): ASCII whitespace, the information separators 0x1C-0x1F, and the
    // Unicode space separators.
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) return true;
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
        return true;
    return cp >= 0x2000 && cp <= 0x200A;
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
    std::vector<uint32_t> set;
    if (chars) {
        charge_bytes(chars->size() * sizeof(uint32_t));
        for (size_t i = 0; i < chars->size();) set.push_back(decode(*chars, i));
        std::sort(set.begin(), set.end());  // searched per code point of s: keep that logarithmic
    }
    auto strippable = [&](uint32_t cp) {
        return chars ? std::binary_search(set.begin(), set.end(), cp) : is_space(cp);
    };
    // One pass forward (a stray byte only decodes as itself going forward): the kept text runs
    // from the first code point to keep to the end of the last.
    charge_bytes(s.size());
    size_t begin = s.size(), end = 0;
    for (size_t i = 0; i < s.size();) {
        size_t at = i;
        if (strippable(decode(s, i))) continue;
        begin = std::min(begin, at);
        end = i;
        if (!right) break;
    }
    if (begin >= end) return std::string();  // nothing kept
    if (!left) begin = 0;
    if (!right) end = s.size();
    return std::string(s.substr(begin, end - begin));
}

namespace {

// Whitespace split, from the left (maxsplit counts splits, -1 for all).
std::vector<std::string> split_whitespace(std::string_view s, int64_t maxsplit) {
    charge_bytes(s.size());
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < s.size()) {
        size_t start = i, next = i;
        if (is_space(decode(s, next))) {
            i = next;
            continue;
        }
        if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
            add_part(parts, s.substr(start));  // Python keeps the rest's trailing spaces
            return parts;
        }
        i = next;
        while (i < s.size()) {
            size_t k = i;
            if (is_space(decode(s, k))) break;
            i = k;
        }
        add_part(parts, s.substr(start, i - start));
    }
    return parts;
}

}  // namespace

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
    if (!sep) return split_whitespace(s, maxsplit);
    std::vector<std::string> parts;
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        size_t pos = find_bytes(s, *sep, start);
        if (pos == std::string_view::npos) break;
        add_part(parts, s.substr(start, pos - start));
        start = pos + sep->size();
    }
    add_part(parts, s.substr(start));
    return parts;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
    if (maxsplit < 0) return split(s, sep, maxsplit);  // all splits: direction does not matter
    if (!sep) {
        std::vector<size_t> off = code_point_offsets(s);
        auto space_at = [&](size_t k) {
            size_t i = off[k];
            return is_space(decode(s, i));
        };
        std::vector<std::string> parts;
        size_t end = off.size() - 1;  // in code points
        for (;;) {
            while (end > 0 && space_at(end - 1)) --end;
            if (end == 0) break;
            if (static_cast<int64_t>(parts.size()) == maxsplit) {
                add_part(parts, s.substr(0, off[end]));  // Python keeps the head's leading spaces
                break;
            }
            size_t start = end;
            while (start > 0 && !space_at(start - 1)) --start;
            add_part(parts, s.substr(off[start], off[end] - off[start]));
            end = start;
        }
        std::reverse(parts.begin(), parts.end());
        return parts;
    }
    // From the right is from the left in the reversed text: the search stays linear.
    std::vector<std::string> parts = split(reversed(s), reversed(*sep), maxsplit);
    for (std::string& part : parts) std::reverse(part.begin(), part.end());
    std::reverse(parts.begin(), parts.end());
    return parts;
}

std::vector<std::string> splitlines(std::string_view s) {
    charge_bytes(s.size());
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t i = 0; i < s.size();) {
        size_t at = i;
        uint32_t cp = decode(s, i);
        bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
                   cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!brk) continue;
        add_part(lines, s.substr(start, at - start));
        if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
        start = i;
    }
    if (start < s.size()) add_part(lines, s.substr(start));
    return lines;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
    std::string out;
    auto put = [&out](std::string_view piece) {  // grows within the string limit
        reserve_string(out.size() + piece.size(), piece.size());
        out += piece;
    };
    if (from.empty()) {
        // Python inserts `to` before every code point and at the end.
        int64_t k = 0;
        for (size_t i = 0; i < s.size(); ++k) {
            size_t start = i;
            decode(s, i);
            if (count < 0 || k < count) put(to);
            put(s.substr(start, i - start));
        }
        if (count < 0 || k < count) put(to);
        return out;
    }
    size_t start = 0;
    for (int64_t done = 0; count < 0 || done < count; ++done) {
        size_t pos = find_bytes(s, from, start);
        if (pos == std::string_view::npos) break;
        put(s.substr(start, pos - start));
        put(to);
        start = pos + from.size();
    }
    put(s.substr(start));
    return out;
}

namespace {

uint32_t to_upper_cp(uint32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;  // Greek
    if (c >= 0x430 && c <= 0x44F) return c - 32;                // Cyrillic
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    if (c >= 0x100 && c <= 0x17F && (c & 1) && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F &&
        !(c >= 0x139 && c <= 0x148) && !(c >= 0x179 && c <= 0x17E))
        return c - 1;  // Latin Extended-A pairs (even upper, odd lower)
    if (((c >= 0x13A && c <= 0x148) || (c >= 0x17A && c <= 0x17E)) && !(c & 1)) return c - 1;
    return c;
}

uint32_t to_lower_cp(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x100 && c <= 0x17F && !(c & 1) && c != 0x130 && c != 0x138 && !(c >= 0x139 && c <= 0x148) &&
        !(c >= 0x179 && c <= 0x17E))
        return c + 1;
    if (((c >= 0x139 && c <= 0x147) || (c >= 0x179 && c <= 0x17D)) && (c & 1)) return c + 1;
    return c;
}

template <typename F>
std::string map_code_points(std::string_view s, F f) {
    charge_bytes(s.size());
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        size_t start = i;
        uint32_t cp = decode(s, i);
        uint32_t mapped = f(cp);
        if (mapped == cp) {
            out += s.substr(start, i - start);  // keeps invalid bytes exactly as they were
        } else {
            append_utf8(out, mapped);
        }
    }
    return out;
}

bool is_alpha_cp(uint32_t c) { return to_upper_cp(c) != c || to_lower_cp(c) != c; }

}  // namespace

std::string upper(std::string_view s) {
    std::string out = map_code_points(s, to_upper_cp);
    // The one common letter whose capital is two letters: Python's "ß".upper() == "SS".
    return out.find("\xC3\x9F") == std::string::npos ? out : replace(out, "\xC3\x9F", "SS", -1);
}
std::string lower(std::string_view s) { return map_code_points(s, to_lower_cp); }

std::string capitalize(std::string_view s) {
    bool first = true;
    return map_code_points(s, [&](uint32_t c) {
        uint32_t r = first ? to_upper_cp(c) : to_lower_cp(c);
        first = false;
        return r;
    });
}

std::string title(std::string_view s) {
    bool prev_alpha = false;
    return map_code_points(s, [&](uint32_t c) {
        uint32_t r = prev_alpha ? to_lower_cp(c) : to_upper_cp(c);
        prev_alpha = is_alpha_cp(c) || (c >= '0' && c <= '9');
        return r;
    });
}

int64_t count(std::string_view s, std::string_view needle) {
    if (needle.empty()) return static_cast<int64_t>(length(s)) + 1;
    int64_t n = 0;
    for (size_t pos = find_bytes(s, needle, 0); pos != std::string_view::npos;
         pos = find_bytes(s, needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

int64_t find(std::string_view s, std::string_view needle, bool last) {
    size_t pos = find_bytes(s, needle, 0);
    if (last && pos != std::string_view::npos) {
        size_t from_end = find_bytes(reversed(s), reversed(needle), 0);  // the last match, found first
        pos = s.size() - from_end - needle.size();
    }
    if (pos == std::string_view::npos) return -1;
    return static_cast<int64_t>(length(s.substr(0, pos)));
}

}  // namespace kiln::jinja::text
