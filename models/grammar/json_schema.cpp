#include "models/grammar/json_schema.h"

#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/grammar/integer_range.h"

namespace kiln {
namespace {

using Json = nlohmann::ordered_json;  // properties keep the schema's order

// The rules every JSON grammar shares. ws: at most one newline and 16 spaces or tabs, so
// whitespace cannot grow without end.
constexpr const char* kCommonRules = R"(ws ::= [ \t]{0,16} | "\n" [ \t]{0,16}
json-char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
json-string ::= "\"" json-char* "\""
json-int ::= "-"? ("0" | [1-9] [0-9]{0,14})
json-number ::= json-int ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?
json-boolean ::= "true" | "false"
json-null ::= "null"
json-value ::= json-object | json-array | json-string | json-number | json-boolean | json-null
json-object ::= "{" ws ( json-string ws ":" ws json-value ws ( "," ws json-string ws ":" ws json-value ws )* )? "}"
json-array ::= "[" ws ( json-value ws ( "," ws json-value ws )* )? "]"
)";

// A GBNF string literal for `text`.
std::string literal(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            static const char* hex = "0123456789ABCDEF";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

class SchemaConverter {
public:
    SchemaConverter(const Json& root, std::string_view source) : root_(root), source_(source) {}

    std::string convert(const std::string& top = "root") {
        reserved_.insert(top);
        const std::string root_expr = visit(root_, top, "");
        std::string out = top + " ::= ws " + root_expr + " ws\n";
        for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
        return out + kCommonRules;
    }

private:
    [[noreturn]] void fail(const std::string& at, const std::string& what) const {
        throw Error(source_ + ": at " + (at.empty() ? std::string("/") : at) + ": " + what);
    }

    // A new rule name from a hint (GBNF names are [a-zA-Z0-9_-]).
    std::string new_rule(const std::string& hint, std::string body) {
        std::string base;
        for (char c : hint) base += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
        if (base.empty() || base.size() > 40) base = "r";
        std::string name = "s-" + base;
        for (int i = 2; rules_.count(name) != 0 || reserved_.count(name) != 0; ++i) name = "s-" + base + "-" + std::to_string(i);
        rules_[name] = std::move(body);
        return name;
    }

    // An expression matching JSON valid against `s`; `at` is its JSON pointer, for errors.
    std::string visit(const Json& s, const std::string& hint, const std::string& at) {
        if (++depth_ > 64) fail(at, "schema nested deeper than 64 levels");
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        if (s.is_boolean()) {
            if (!s.get<bool>()) fail(at, "the schema 'false' matches nothing");
            return "json-value";
        }
        if (!s.is_object()) fail(at, "a schema must be an object or a boolean");
        check_keywords(s, at);
        if (s.contains("$ref")) return reference(s["$ref"], at);
        if (s.contains("const")) return literal(s["const"].dump());
        if (s.contains("enum")) return enumeration(s["enum"], at);
        for (const char* key : {"anyOf", "oneOf"})
            if (s.contains(key)) return alternatives(s[key], hint, at + "/" + key);
        if (s.contains("allOf")) {
            const Json& all = s["allOf"];
            if (!all.is_array() || all.size() != 1) fail(at + "/allOf", "allOf is supported with one schema only");
            return visit(all[0], hint, at + "/allOf/0");
        }
        if (!s.contains("type")) {
            if (s.contains("properties")) return object(s, hint, at);
            if (s.contains("items")) return array(s, hint, at);
            return "json-value";
        }
        const Json& type = s["type"];
        if (type.is_array()) {
            if (type.empty()) fail(at + "/type", "an empty list of types");
            std::string out;
            for (const Json& t : type) {
                if (!t.is_string()) fail(at + "/type", "types must be strings");
                out += (out.empty() ? "" : " | ") + typed(s, t.get<std::string>(), hint, at);
            }
            return "(" + out + ")";
        }
        if (!type.is_string()) fail(at + "/type", "'type' must be a string or a list of strings");
        return typed(s, type.get<std::string>(), hint, at);
    }

    void check_keywords(const Json& s, const std::string& at) {
        static const std::set<std::string> known = {
            "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
            "minLength", "maxLength", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
            "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions", "title", "description",
            "default", "examples", "$schema", "$id", "$comment", "strict", "name"};
        for (const auto& [key, value] : s.items())
            if (known.count(key) == 0) fail(at, "the keyword " + quoted(key) + " is not supported");
    }

    std::string reference(const Json& ref, const std::string& at) {
        if (!ref.is_string()) fail(at + "/$ref", "$ref must be a string");
        const std::string r = ref.get<std::string>();
        if (auto it = refs_.find(r); it != refs_.end()) return it->second;
        std::string name;
        for (const char* prefix : {"#/$defs/", "#/definitions/"})
            if (r.rfind(prefix, 0) == 0) name = r.substr(std::string_view(prefix).size());
        if (r == "#") {
            name = "root";
        } else if (name.empty()) {
            fail(at + "/$ref", "only references into #/$defs or #/definitions are supported, not " + quoted(r));
        }
        const Json* target = &root_;
        if (r != "#") {
            const std::string defs = r.rfind("#/$defs/", 0) == 0 ? "$defs" : "definitions";
            if (!root_.contains(defs) || !root_[defs].contains(name))
                fail(at + "/$ref", "the reference " + quoted(r) + " names no definition");
            target = &root_[defs][name];
        }
        // Reserve the rule's name first, so a recursive reference finds it.
        std::string rule = "s-ref-";
        for (char c : name) rule += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
        while (rules_.count(rule) != 0 || reserved_.count(rule) != 0) rule += "-x";
        reserved_.insert(rule);
        refs_[r] = rule;
        rules_[rule] = visit(*target, name, r.substr(1));
        return rule;
    }

    std::string enumeration(const Json& values, const std::string& at) {
        if (!values.is_array() || values.empty()) fail(at + "/enum", "enum must be a non-empty list");
        std::string out;
        for (const Json& v : values) out += (out.empty() ? "" : " | ") + literal(v.dump());
        return "(" + out + ")";
    }

    std::string alternatives(const Json& list, const std::string& hint, const std::string& at) {
        if (!list.is_array() || list.empty()) fail(at, "must be a non-empty list of schemas");
        std::string out;
        for (size_t i = 0; i < list.size(); ++i)
            out += (out.empty() ? "" : " | ") + visit(list[i], hint, at + "/" + std::to_string(i));
        return "(" + out + ")";
    }

    std::string typed(const Json& s, const std::string& type, const std::string& hint, const std::string& at) {
        if (type == "object") return object(s, hint, at);
        if (type == "array") return array(s, hint, at);
        if (type == "string") return string(s, at);
        if (type == "integer") return integer(s, at);
        if (type == "number") return number(s, at);
        if (type == "boolean") return "json-boolean";
        if (type == "null") return "json-null";
        fail(at + "/type", "unknown type " + quoted(type));
    }

    std::string object(const Json& s, const std::string& hint, const std::string& at) {
        std::set<std::string> required;
        if (s.contains("required")) {
            if (!s["required"].is_array()) fail(at + "/required", "'required' must be a list of names");
            for (const Json& r : s["required"]) {
                if (!r.is_string()) fail(at + "/required", "'required' must be a list of names");
                required.insert(r.get<std::string>());
            }
        }
        if (!s.contains("properties") || s["properties"].empty()) {
            for (const std::string& r : required) fail(at + "/required", "required property " + quoted(r) + " is not among the properties");
            const Json extra = s.contains("additionalProperties") ? s["additionalProperties"] : Json(true);
            if (extra.is_boolean() && !extra.get<bool>()) return "\"{\" ws \"}\"";
            const std::string value = visit(extra, hint + "-value", at + "/additionalProperties");
            const std::string pair = "json-string ws \":\" ws " + value + " ws";
            return new_rule(hint, "\"{\" ws ( " + pair + " ( \",\" ws " + pair + " )* )? \"}\"");
        }
        const Json& props = s["properties"];
        if (!props.is_object()) fail(at + "/properties", "'properties' must be an object");
        for (const std::string& r : required)
            if (!props.contains(r)) fail(at + "/required", "required property " + quoted(r) + " is not among the properties");
        // pairs[i]: `"key" ws ":" ws value ws`; after[i]: the properties from i on, each after a comma.
        std::vector<std::string> pairs;
        std::vector<bool> needed;
        for (const auto& [key, schema] : props.items()) {
            const std::string value = visit(schema, hint + "-" + key, at + "/properties/" + key);
            pairs.push_back(literal(Json(key).dump()) + " ws \":\" ws " + value + " ws");
            needed.push_back(required.count(key) != 0);
        }
        const size_t n = pairs.size();
        std::vector<std::string> after(n + 1);  // rule names ("" = nothing left)
        for (size_t i = n; i-- > 0;) {
            std::string item = "\",\" ws " + pairs[i];
            std::string body = needed[i] ? item : "( " + item + " )?";
            if (!after[i + 1].empty()) body += " " + after[i + 1];
            after[i] = new_rule(hint + "-after", body);
        }
        // first[i]: the properties from i on with none written yet: the first one written
        // comes without a comma. Optional ones may all be skipped.
        std::string first;
        for (size_t i = n; i-- > 0;) {
            std::string take = pairs[i] + (after[i + 1].empty() ? "" : " " + after[i + 1]);
            if (needed[i]) first = take;
            else first = "( " + take + (first.empty() ? " )?" : " | " + first + " )");
        }
        return new_rule(hint, "\"{\" ws " + first + " \"}\"");
    }

    std::string array(const Json& s, const std::string& hint, const std::string& at) {
        const std::string item = s.contains("items") ? visit(s["items"], hint + "-item", at + "/items") : "json-value";
        const uint64_t min = count(s, "minItems", at, 0);
        const std::optional<uint64_t> max = s.contains("maxItems") ? std::optional(count(s, "maxItems", at, 0)) : std::nullopt;
        if (max && *max < min) fail(at, "maxItems is below minItems");
        if (max && *max == 0) return "\"[\" ws \"]\"";
        const std::string more = "( \",\" ws " + item + " ws )";
        std::string rest = more + "{" + std::to_string(min > 0 ? min - 1 : 0) + "," +
                           (max ? std::to_string(*max - 1) : "") + "}";
        std::string body = item + " ws " + rest;
        if (min == 0) body = "( " + body + " )?";
        return new_rule(hint, "\"[\" ws " + body + " \"]\"");
    }

    uint64_t count(const Json& s, const char* key, const std::string& at, uint64_t fallback) {
        if (!s.contains(key)) return fallback;
        const Json& v = s[key];
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            fail(at + "/" + key, std::string(key) + " must be a non-negative integer");
        const uint64_t n = v.get<uint64_t>();
        if (n > 10000) fail(at + "/" + key, std::string(key) + " above 10000 is not supported");
        return n;
    }

    std::string string(const Json& s, const std::string& at) {
        if (s.contains("format")) {
            const Json& f = s["format"];
            const std::string format = f.is_string() ? f.get<std::string>() : "";
            const std::string d2 = "[0-9]{2}";
            // Days that every year has: February stops at 28 (the 29th would need the year's
            // leap-ness, which a grammar over digits cannot see cheaply).
            const std::string day28 = "(\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8])";
            const std::string month_day = "((\"0\" [13578] | \"1\" [02]) \"-\" (" + day28 + " | \"29\" | \"3\" [01])"
                                          " | (\"0\" [469] | \"11\") \"-\" (" + day28 + " | \"29\" | \"30\")"
                                          " | \"02-\" " + day28 + ")";
            const std::string date = "\"\\\"\" [0-9]{4} \"-\" " + month_day + " \"\\\"\"";
            const std::string time_core = "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
            if (format == "date") return "(" + date + ")";
            if (format == "time") return "(\"\\\"\" " + time_core + " \"\\\"\")";
            if (format == "date-time") {
                std::string d = date.substr(0, date.size() - std::string(" \"\\\"\"").size());
                return "(" + d + " \"T\" " + time_core + " \"\\\"\")";
            }
            if (format == "uuid")
                return "(\"\\\"\" [0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12} \"\\\"\")";
            fail(at + "/format", "the format " + quoted(f.dump()) + " is not supported (date, time, date-time, uuid are)");
        }
        const uint64_t min = count(s, "minLength", at, 0);
        const std::optional<uint64_t> max = s.contains("maxLength") ? std::optional(count(s, "maxLength", at, 0)) : std::nullopt;
        if (!s.contains("minLength") && !max) return "json-string";
        if (max && *max < min) fail(at, "maxLength is below minLength");
        return "(\"\\\"\" json-char{" + std::to_string(min) + "," + (max ? std::to_string(*max) : "") + "} \"\\\"\")";
    }

    // A numeric bound: present, finite. Integral when `integral` (or refused).
    std::optional<double> bound(const Json& s, const char* key, const std::string& at) {
        if (!s.contains(key)) return std::nullopt;
        const Json& v = s[key];
        if (!v.is_number() || !std::isfinite(v.get<double>())) fail(at + "/" + key, std::string(key) + " must be a number");
        return v.get<double>();
    }

    std::string integer(const Json& s, const std::string& at) {
        std::optional<int64_t> lo, hi;
        auto to_int = [&](double v, const char* key) {
            if (std::fabs(v) > double(kLargestGeneratedInteger)) fail(at + "/" + key, std::string(key) + " beyond 15 digits is not supported");
            return int64_t(v);
        };
        if (auto v = bound(s, "minimum", at)) lo = to_int(std::ceil(*v), "minimum");
        if (auto v = bound(s, "exclusiveMinimum", at)) lo = std::max(lo.value_or(INT64_MIN), to_int(std::floor(*v) + 1, "exclusiveMinimum"));
        if (auto v = bound(s, "maximum", at)) hi = to_int(std::floor(*v), "maximum");
        if (auto v = bound(s, "exclusiveMaximum", at)) hi = std::min(hi.value_or(INT64_MAX), to_int(std::ceil(*v) - 1, "exclusiveMaximum"));
        if (!lo && !hi) return "json-int";
        if (lo && hi && *lo > *hi) fail(at, "no integer lies between the bounds");
        return integer_range_gbnf(lo, hi);
    }

    std::string number(const Json& s, const std::string& at) {
        for (const char* key : {"exclusiveMinimum", "exclusiveMaximum"})
            if (s.contains(key)) fail(at + "/" + key, std::string(key) + " is supported for integers only");
        const std::optional<double> lo = bound(s, "minimum", at), hi = bound(s, "maximum", at);
        if (!lo && !hi) return "json-number";
        for (const auto& [v, key] : {std::pair{lo, "minimum"}, std::pair{hi, "maximum"}})
            if (v && (*v != std::floor(*v) || std::fabs(*v) > double(kLargestGeneratedInteger)))
                fail(at + "/" + key, std::string("a number's ") + key + " must be a whole number of at most 15 digits");
        const std::optional<int64_t> l = lo ? std::optional(int64_t(*lo)) : std::nullopt;
        const std::optional<int64_t> h = hi ? std::optional(int64_t(*hi)) : std::nullopt;
        if (l && h && *l > *h) fail(at, "minimum is above maximum");
        // Whole values in [l, h]; n.ddd for n in [max(l, 0), h - 1]; -m.ddd for m in
        // [max(0, -h), -l - 1] (see integer_range.h for the unbounded sides).
        const std::string fraction = "\".\" [0-9]{1,15}";
        std::string out = integer_range_gbnf(l, h);
        const int64_t big = kLargestGeneratedInteger;
        const int64_t pos_lo = std::max<int64_t>(l.value_or(0), 0), pos_hi = h ? *h - 1 : big;
        if (pos_lo <= pos_hi) out += " | " + natural_range_gbnf(uint64_t(pos_lo), uint64_t(pos_hi)) + " " + fraction;
        const int64_t neg_lo = std::max<int64_t>(h ? -*h : 0, 0), neg_hi = l ? -*l - 1 : big;
        if (neg_lo <= neg_hi) out += " | \"-\" " + natural_range_gbnf(uint64_t(neg_lo), uint64_t(neg_hi)) + " " + fraction;
        return "(" + out + ")";
    }

    const Json& root_;
    std::string source_;
    std::map<std::string, std::string> rules_;
    std::set<std::string> reserved_;
    std::map<std::string, std::string> refs_;
    int depth_ = 0;
};

}  // namespace

namespace {

Json parse_schema(std::string_view schema_json, std::string_view source) {
    try {
        return Json::parse(schema_json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string(source) + ": not JSON: " + escape_control(e.what()));
    }
}

}  // namespace

std::string json_schema_to_gbnf(std::string_view schema_json, std::string_view source) {
    return SchemaConverter(parse_schema(schema_json, source), source).convert();
}

std::string json_schema_rules(std::string_view schema_json, std::string_view source, const std::string& rule) {
    return SchemaConverter(parse_schema(schema_json, source), source).convert(rule);
}

std::string json_object_gbnf() { return std::string("root ::= ws json-object ws\n") + kCommonRules; }

}  // namespace kiln
