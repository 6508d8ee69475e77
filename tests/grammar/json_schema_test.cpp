// JSON Schema -> GBNF: the grammar accepts what the schema accepts and refuses what it refuses,
// checked on hand-written instances and, for integer bounds, on every number near the bounds.
#include <gtest/gtest.h>

#include <random>

#include "graph/error.h"
#include "grammar_test_support.h"
#include "models/grammar/grammar.h"
#include "models/grammar/integer_range.h"
#include "models/grammar/json_schema.h"

namespace kiln {
namespace {

using testing::grammar_accepts;

Grammar schema_grammar(const std::string& schema) {
    return Grammar::parse(json_schema_to_gbnf(schema, "schema"), "schema grammar");
}

std::string schema_error(const std::string& schema) {
    try {
        (void)schema_grammar(schema);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(IntegerRange, MatchesExactlyTheIntegersInTheRange) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> pick(-3000, 3000);
    for (int round = 0; round < 40; ++round) {
        int64_t lo = pick(rng), hi = pick(rng);
        if (lo > hi) std::swap(lo, hi);
        const bool lo_open = round % 5 == 1, hi_open = round % 5 == 2;
        const Grammar g = Grammar::parse(
            "root ::= " + integer_range_gbnf(lo_open ? std::nullopt : std::optional(lo), hi_open ? std::nullopt : std::optional(hi)),
            "range");
        for (int64_t v = lo - 120; v <= hi + 120; ++v) {
            const bool in = (lo_open || v >= lo) && (hi_open || v <= hi);
            ASSERT_EQ(grammar_accepts(g, std::to_string(v)), in) << v << " in [" << lo << ", " << hi << "]";
        }
        EXPECT_FALSE(grammar_accepts(g, "007"));
        EXPECT_FALSE(grammar_accepts(g, "-0"));
    }
}

TEST(JsonSchema, ObjectsWithRequiredAndOptionalProperties) {
    const Grammar g = schema_grammar(R"({"type": "object", "properties": {
        "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "ok": {"type": "boolean"}}, "required": ["name", "ok"], "additionalProperties": false})");
    EXPECT_TRUE(grammar_accepts(g, R"({"name": "x", "ok": true})"));
    EXPECT_TRUE(grammar_accepts(g, R"({"name":"x","age":150,"tags":["a","b"],"ok":false})"));
    EXPECT_TRUE(grammar_accepts(g, "{\n  \"name\": \"\\u00e9\",\n  \"tags\": [],\n  \"ok\": true\n}"));
    EXPECT_FALSE(grammar_accepts(g, R"({"ok": true})"));                       // name missing
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x", "age": 151, "ok": true})"));  // above maximum
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x", "age": -1, "ok": true})"));
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x", "tags": ["a","b","c"], "ok": true})"));
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x", "ok": true, "extra": 1})"));
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x",, "ok": true})"));
    EXPECT_FALSE(grammar_accepts(g, R"({"name": "x", "ok": true,})"));
}

TEST(JsonSchema, AllOptionalPropertiesMayBeAnySubsetInOrder) {
    const Grammar g = schema_grammar(R"({"type": "object", "properties": {"a": {"type": "null"},
        "b": {"type": "null"}, "c": {"type": "null"}}})");
    for (const char* ok : {"{}", R"({"a":null})", R"({"b":null})", R"({"c":null})", R"({"a":null,"c":null})",
                           R"({"b":null,"c":null})", R"({"a":null,"b":null,"c":null})"})
        EXPECT_TRUE(grammar_accepts(g, ok)) << ok;
    EXPECT_FALSE(grammar_accepts(g, R"({,"a":null})"));
    EXPECT_FALSE(grammar_accepts(g, R"({"a":null,})"));
}

TEST(JsonSchema, EnumsConstsAnyOfRefsAndFormats) {
    const Grammar g = schema_grammar(R"({"$defs": {"node": {"type": "object", "properties": {
            "v": {"enum": ["x", 2, null, {"k": [1]}]}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
            "required": ["v", "next"], "additionalProperties": false}},
        "type": "object", "properties": {"head": {"$ref": "#/$defs/node"}, "kind": {"const": "list"},
            "when": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"},
            "code": {"type": "string", "minLength": 2, "maxLength": 3}, "x": {"type": ["number", "null"], "minimum": -2, "maximum": 3}},
        "required": ["head", "kind", "when", "id", "code", "x"], "additionalProperties": false})");
    const std::string good =
        R"({"head": {"v": "x", "next": {"v": {"k":[1]}, "next": null}}, "kind": "list", "when": "2024-02-28T13:05:00Z",)"
        R"( "id": "123e4567-e89b-12d3-a456-426614174000", "code": "ab", "x": -1.5})";
    EXPECT_TRUE(grammar_accepts(g, good));
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    EXPECT_TRUE(grammar_accepts(g, with("-1.5", "null")));
    EXPECT_TRUE(grammar_accepts(g, with("-1.5", "3")));
    EXPECT_TRUE(grammar_accepts(g, with("-1.5", "2.99")));
    EXPECT_FALSE(grammar_accepts(g, with("-1.5", "3.5")));
    EXPECT_FALSE(grammar_accepts(g, with("-1.5", "-2.5")));
    EXPECT_FALSE(grammar_accepts(g, with("\"x\"", "\"y\"")));
    EXPECT_FALSE(grammar_accepts(g, with("\"list\"", "\"set\"")));
    EXPECT_FALSE(grammar_accepts(g, with("13:05", "25:05")));
    EXPECT_TRUE(grammar_accepts(g, with("2024-02-28", "2023-12-31")));
    EXPECT_FALSE(grammar_accepts(g, with("2024-02-28", "2023-02-29")));  // not a leap year
    // Never generated, though valid: a grammar over digits cannot see leap years (a subset).
    EXPECT_FALSE(grammar_accepts(g, with("2024-02-28", "2024-02-29")));
    EXPECT_FALSE(grammar_accepts(g, with("2024-02-28", "2023-09-31")));
    EXPECT_FALSE(grammar_accepts(g, with("2024-02-28", "2023-13-01")));
    EXPECT_FALSE(grammar_accepts(g, with("426614174000", "42661417400")));
    EXPECT_FALSE(grammar_accepts(g, with("\"ab\"", "\"abcd\"")));
    EXPECT_FALSE(grammar_accepts(g, with("\"ab\"", "\"a\"")));
}

TEST(JsonSchema, JsonObjectModeAcceptsAnyObjectOnly) {
    const Grammar g = Grammar::parse(json_object_gbnf(), "json_object");
    EXPECT_TRUE(grammar_accepts(g, R"({"a": [1, {"b": "c"}], "d": -0.5e3})"));
    EXPECT_TRUE(grammar_accepts(g, " {} "));
    EXPECT_FALSE(grammar_accepts(g, "[]"));
    EXPECT_FALSE(grammar_accepts(g, R"({"a": 01})"));
}

TEST(JsonSchema, WhatItCannotEnforceIsRefusedByName) {
    struct Case {
        const char* schema;
        const char* expect;
    };
    const Case cases[] = {
        {R"({"type": "string", "pattern": "^a+$"})", "schema: at /: the keyword 'pattern' is not supported"},
        {R"({"type": "object", "properties": {"a": {"not": {}}}})", "at /properties/a: the keyword 'not' is not supported"},
        {R"({"type": "string", "format": "email"})", "at /format: the format '\"email\"' is not supported"},
        {R"({"type": "number", "minimum": 0.5})", "at /minimum: a number's minimum must be a whole number"},
        {R"({"type": "number", "exclusiveMinimum": 0})", "exclusiveMinimum is supported for integers only"},
        {R"({"type": "integer", "minimum": 5, "maximum": 4})", "no integer lies between the bounds"},
        {R"({"$ref": "#/$defs/missing"})", "at /$ref: the reference '#/$defs/missing' names no definition"},
        {R"({"$ref": "http://x/y.json"})", "only references into #/$defs or #/definitions"},
        {R"({"type": "object", "properties": {}, "required": ["a"]})", "required property 'a' is not among the properties"},
        {R"({"type": "array", "minItems": 3, "maxItems": 2})", "maxItems is below minItems"},
        {R"({"type": "strange"})", "at /type: unknown type 'strange'"},
        {R"({"allOf": [{}, {}]})", "allOf is supported with one schema only"},
        {R"(false)", "the schema 'false' matches nothing"},
        {R"({"type": )", "schema: not JSON:"},
    };
    for (const Case& c : cases) {
        const std::string e = schema_error(c.schema);
        EXPECT_NE(e.find(c.expect), std::string::npos) << c.schema << " gave: " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

}  // namespace
}  // namespace kiln
