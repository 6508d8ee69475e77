#pragma once
// JSON in and out of template values. to_json is Python's json.dumps (what Hugging Face's
// `tojson` filter calls), byte for byte: ", " / ": " separators, floats as Python's repr,
// non-ASCII kept unless ensure_ascii. parse_json reads tool definitions, tool-call arguments
// and extra variables given as JSON.
#include <optional>
#include <string>
#include <string_view>

#include "models/chat/value.h"

namespace kiln::jinja {

struct JsonOptions {
    std::optional<std::string> indent;  // json.dumps(indent=...): an int becomes that many spaces
    std::string item_separator = ", ";  // json.dumps makes this "," when indent is set
    std::string key_separator = ": ";
    bool sort_keys = false;
    bool ensure_ascii = false;
};

// Throws EvalError for undefined values, callables and namespaces (not serializable in Python).
std::string to_json(const Value& v, const JsonOptions& options = {});

// Throws kiln::Error naming the byte offset of malformed JSON.
Value parse_json(std::string_view json);

}  // namespace kiln::jinja
