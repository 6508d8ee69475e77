#pragma once
// Text read from a file or a request, made safe to quote in a kiln::Error (graph/error.h), whose
// message must stay one line.
#include <cstdio>
#include <string>
#include <string_view>

namespace kiln {

// `text` with control characters escaped (\n, \t, \x1b, ...): text from a file or a request
// quoted in a message must not break it over lines.
inline std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x20 && b != 0x7f) {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", b);
            out += hex;
        }
    }
    return out;
}

// The same in single quotes, as messages name a token, a merge or a key. The std::string and
// const char* overloads are there because argument-dependent lookup also finds std::quoted,
// which would otherwise be the better match for them.
inline std::string quoted(std::string_view text) { return "'" + escape_control(text) + "'"; }
inline std::string quoted(const std::string& text) { return quoted(std::string_view(text)); }
inline std::string quoted(const char* text) { return quoted(std::string_view(text)); }

}  // namespace kiln
