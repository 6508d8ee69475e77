#pragma once
// Template values out as JSON: to_json is Python's json.dumps (what Hugging Face's `tojson`
// filter calls), byte for byte: ", " / ": " separators, floats as Python's repr, non-ASCII kept
// unless ensure_ascii. JSON in: json_value.h.
#include <optional>
#include <string>

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

}  // namespace kiln::jinja
