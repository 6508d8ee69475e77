#pragma once
// Turns tokens into the syntax tree, with Jinja2's operator precedence (filters and tests bind
// tighter than arithmetic; `**` is left-associative and binds looser than unary minus).
#include <string>
#include <string_view>

#include "models/chat/ast.h"

namespace kiln::jinja {

// Throws kiln::Error ("name:line:column: ...") for syntax errors, unknown or unsupported tags,
// unclosed blocks and nesting deeper than the parser's limit.
Body parse_template(std::string_view source, const std::string& name);

}  // namespace kiln::jinja
