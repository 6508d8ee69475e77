#pragma once
// Python str operations on UTF-8 text, counted in code points as Python counts them: length,
// indexing and slicing, strip/split on Python's notion of whitespace, case mapping.
// Invalid UTF-8 bytes count as one code point each, so nothing here throws on bad input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/utf8.h"

namespace kiln::jinja::text {

// Every function here charges the bytes it reads or writes to the render's budget (budget.h).
//
// Code points of `s` with their byte offsets: offsets has one more entry (s.size()) at the end.
// Costs 8 bytes per code point; walk with advance() where that is enough.
std::vector<size_t> code_point_offsets(std::string_view s);
size_t length(std::string_view s);
// The byte offset `count` code points past byte offset i (s.size() when the text ends first).
size_t advance(std::string_view s, size_t i, size_t count);
// Byte offset of the first occurrence of needle at or after `from`, or npos. Linear in the text
// for any needle (glibc's two-way memmem; std::string_view::find is quadratic on some).
size_t find_bytes(std::string_view s, std::string_view needle, size_t from);
// Decodes the code point at s[i] and advances i; a bad byte decodes as itself.
uint32_t decode(std::string_view s, size_t& i);

// Python's str.isspace() for one code point.
bool is_space(uint32_t cp);
// str.strip / lstrip / rstrip; `chars` absent strips whitespace, else any of those code points.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit); no separator splits on whitespace runs and drops empty parts.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s);
// str.replace(old, new, count); count < 0 replaces all.
std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);
// Case mapping for ASCII, Latin-1, Greek and Cyrillic letters; other code points stay.
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);
std::string title(std::string_view s);
// Number of non-overlapping occurrences (Python counts len+1 for an empty needle).
int64_t count(std::string_view s, std::string_view needle);
// Code point index of the first / last occurrence, or -1.
int64_t find(std::string_view s, std::string_view needle, bool last);

}  // namespace kiln::jinja::text
