#pragma once
// JSON Schema -> GBNF (grammar.h): what the model writes then parses as JSON and validates
// against the schema. The subset OpenAI's structured outputs allow, plus a little:
//
//   type (one or a list), object (properties in the schema's order, required, and
//   additionalProperties: false; without properties, additionalProperties true or a schema
//   gives a map), array (items, minItems, maxItems), string (minLength, maxLength, and the
//   formats date, time, date-time, uuid), integer (minimum, maximum, exclusive bounds), number
//   (integral minimum / maximum), boolean, null, enum, const, anyOf / oneOf (as alternatives:
//   oneOf's exclusivity is not enforced), allOf of one schema, $ref into #/$defs or
//   #/definitions (recursion allowed), and the keywords that only describe (title,
//   description, default, examples, $schema, $id, $comment).
//
// Anything else that constrains a value (pattern, not, if/then, patternProperties, an unknown
// format, ...) is refused with an error naming the keyword and where it is, never ignored.
// Object properties that are not required may be left out; extra properties are never
// generated. Whitespace between tokens is limited (a few spaces or one newline and indent), and
// numbers to 15 integer digits, so a wandering model cannot fill its budget with them.
#include <string>
#include <string_view>

namespace kiln {

// GBNF for JSON valid against `schema_json` (JSON text). `source` names the schema in errors
// (kiln::Error: "SOURCE: at /properties/x: what").
std::string json_schema_to_gbnf(std::string_view schema_json, std::string_view source);

// The same rules with the schema's value as `rule` instead of `root`, to use inside a larger
// grammar (which defines root, and no rule named like the helpers: ws, json-*, s-*).
std::string json_schema_rules(std::string_view schema_json, std::string_view source, const std::string& rule);

// GBNF for any JSON object (OpenAI's {"type": "json_object"}).
std::string json_object_gbnf();

}  // namespace kiln
