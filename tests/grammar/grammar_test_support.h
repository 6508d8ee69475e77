#pragma once
// Helpers for the grammar tests: whole-text matching, and a JSON Schema validator for the
// subset json_schema.h converts, written from the schema's meaning (values, not grammars), so
// it checks the converter instead of repeating it.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "models/grammar/grammar.h"
#include "models/grammar/grammar_matcher.h"

namespace kiln::testing {

// Does `text` (fed in pieces of `chunk` bytes, to cross UTF-8 characters) complete `g`?
inline bool grammar_accepts(const Grammar& g, std::string_view text) {
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    return m.advance(s, text, scratch) && GrammarMatcher::can_end(s);
}

// Is `text` a prefix of some sentence of `g`?
inline bool grammar_allows_prefix(const Grammar& g, std::string_view text) {
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    return m.advance(s, text, scratch);
}

// Why `value` is not valid against `schema` (nullopt: valid). `root` resolves $ref.
std::optional<std::string> json_schema_violation(const nlohmann::json& schema, const nlohmann::json& value,
                                                 const nlohmann::json& root);

}  // namespace kiln::testing
