#pragma once
// JSON text in as template values, as Python's json.loads makes them: objects keep the text's
// key order, integers stay ints unless they overflow int64. For what clients send to be
// rendered by a template (tool definitions, a tool call's arguments).
#include <string_view>

#include "models/chat/value.h"

namespace kiln::jinja {

// Throws kiln::Error naming `source` for text that is not JSON or nests deeper than
// `max_depth` (values are built recursively).
Value json_to_value(std::string_view text, std::string_view source, int max_depth = 64);

}  // namespace kiln::jinja
